"""Page script run by st.navigation (see app.py)."""

from spatial.ui import dashboard
from spatial.ui.common import guarded

guarded(dashboard.render)()
