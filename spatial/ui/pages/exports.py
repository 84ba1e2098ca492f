"""Page script run by st.navigation (see app.py)."""

from spatial.ui import exports
from spatial.ui.common import guarded

guarded(exports.render)()
