"""Outputs: what a planner takes away — the interactive map and the offline map file
(:mod:`.maps`, :mod:`.map_data`, :mod:`.map_assets`, :mod:`.offline_map`), exports to GIS,
CAD and spreadsheets (:mod:`.export`, :mod:`.workbook`, :mod:`.spreadsheet`), the progress
report and its charts (:mod:`.report`, :mod:`.charts`, :mod:`.printing`)."""
