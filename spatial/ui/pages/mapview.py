"""Page script run by st.navigation (see app.py)."""

from spatial.ui import mapview
from spatial.ui.common import guarded

guarded(mapview.render)()
