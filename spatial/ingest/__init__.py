"""Ingest: from the file a district has to checked, normalised project rows and a report.

Reading each format with its own GDAL driver and limits (:mod:`.formats`, :mod:`.limits`,
:mod:`.gdal_drivers`, :mod:`.geojson`), resolving the coordinate system (:mod:`.crs_detect`),
the project layer's rules (:mod:`.upload` composes :mod:`.columns`, :mod:`.field_rules`,
:mod:`.geometry_rules`, :mod:`.district_rules`, :mod:`.id_rules`), the findings they report
(:mod:`.findings`), and a district's upload from bytes to committed versions and back
(:mod:`.submissions`). Nothing here writes to the store except :mod:`.submissions`.
"""
