"""Page script run by st.navigation (see app.py)."""

from spatial.ui import users
from spatial.ui.common import guarded

guarded(users.render)()
