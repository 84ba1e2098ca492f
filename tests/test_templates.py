"""The upload templates a district downloads are read back whole by the upload check
(spatial.ingest.templates): every column recognised, every example value accepted, in both
languages."""

from __future__ import annotations

import pandas as pd
import pytest

from spatial.ingest.templates import TEMPLATE_FIELDS, excel_template, field_table, geojson_template
from spatial.ingest.upload import UploadOptions, check_upload


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    "name,build", [("template.geojson", geojson_template), ("template.xlsx", excel_template)]
)
def test_a_template_is_accepted_as_it_is(seeded_store, lang, name, build):
    checked = check_upload(
        name,
        build(lang),
        UploadOptions("baoan"),
        seeded_store.layer("districts"),
        seeded_store.projects()[["project_id", "district_id"]],
    )
    assert checked.accepted, checked.report.to_text("en")
    codes = {f.code for f in checked.report.warnings}
    assert "unknown_columns" not in codes, checked.report.to_text("en")
    row = checked.projects.iloc[0]
    assert row["floor_area_m2"] == 120000
    assert row["start_evidence"] == "confirmed"  # 已证实
    assert row["completion_evidence"] == "planned"  # 计划
    assert pd.isna(row["delivery_evidence"])  # no delivery date
    assert row["figures_quality"] == "exact" and row["location_quality"] == "official"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_field_table_documents_every_template_column(lang):
    table = field_table(lang)
    assert len(table) == len(TEMPLATE_FIELDS)
    english = table.iloc[:, 1].tolist()
    assert english == list(TEMPLATE_FIELDS)
    notes = dict(zip(english, table.iloc[:, -1], strict=True))
    for column in ("start_evidence", "figures_quality", "dates_quality", "location_quality"):
        assert notes[column], column  # the optional columns say what they take


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sites_template_is_accepted_as_it_is(reference, lang):
    from spatial.ingest.site_rules import check_site_upload
    from spatial.ingest.templates import SITE_EXAMPLE, site_field_table, site_geojson_template

    checked = check_site_upload(
        "sites_template.geojson", site_geojson_template(lang), UploadOptions("baoan"),
        reference.districts,
    )  # fmt: skip
    assert checked.accepted and not checked.report.warnings, checked.report.to_text("en")
    row = checked.sites.iloc[0]
    assert (row["land_area_m2"], row["readiness"], row["plot_ratio"]) == (45_000, "preparing", 4.0)
    assert len(site_field_table(lang)) == len(SITE_EXAMPLE)
