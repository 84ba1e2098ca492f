"""Page script run by st.navigation (see app.py)."""

from spatial.ui import counting
from spatial.ui.common import guarded

guarded(counting.render)()
