"""Figures: what the store's contents mean on a date — every layer as of a date with its
overlays (:mod:`.snapshot`, :mod:`.overlays`), the pledge ledger and how it is judged
(:mod:`.ledger`, :mod:`.counting`), the filters a figure and a page share (:mod:`.filters`),
and one project in full (:mod:`.project_details`)."""
