"""Page script run by st.navigation (see app.py)."""

from spatial.ui import site_finder
from spatial.ui.common import guarded

guarded(site_finder.render)()
