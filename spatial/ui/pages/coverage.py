"""Page script run by st.navigation (see app.py)."""

from spatial.ui import coverage
from spatial.ui.common import guarded

guarded(coverage.render)()
