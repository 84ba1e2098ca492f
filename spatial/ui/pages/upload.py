"""Page script run by st.navigation (see app.py)."""

from spatial.ui import upload
from spatial.ui.common import guarded

guarded(upload.render)()
