"""Page script run by st.navigation (see app.py)."""

from spatial.ui import capacity
from spatial.ui.common import guarded

guarded(capacity.render)()
