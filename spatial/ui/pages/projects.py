"""Page script run by st.navigation (see app.py)."""

from spatial.ui import projects
from spatial.ui.common import guarded

guarded(projects.render)()
