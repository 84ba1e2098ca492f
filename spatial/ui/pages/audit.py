"""Page script run by st.navigation (see app.py)."""

from spatial.ui import audit
from spatial.ui.common import guarded

guarded(audit.render)()
