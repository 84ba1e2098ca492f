"""Page script run by st.navigation (see app.py)."""

from spatial.ui import scenarios
from spatial.ui.common import guarded

guarded(scenarios.render)()
