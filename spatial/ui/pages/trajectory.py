"""Page script run by st.navigation (see app.py)."""

from spatial.ui import trajectory
from spatial.ui.common import guarded

guarded(trajectory.render)()
