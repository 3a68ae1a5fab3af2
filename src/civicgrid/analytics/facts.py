"""The case facts table: one row per case, everything evaluation and analytics need, flat and columnar.

It is built from the live database (``analytics.warehouse``) or generated (``demo.generate``), stored as
monthly Parquet partitions by received month, and queried with DuckDB. Timestamps are UTC. Actor columns are
user ids of who took the stage's action (first time). ``*_wmin`` are working minutes on the working clock.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

FACTS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("number", pa.string()),
        ("category_code", pa.string()),
        ("kind", pa.string()),  # C / E
        ("major_code", pa.string()),
        ("source", pa.string()),  # citizen inspector hotline open311 sensor operator
        ("urgent", pa.bool_()),
        ("street_code", pa.string()),
        ("community_code", pa.string()),
        ("grid_code", pa.string()),
        ("department_code", pa.string()),  # last department dispatched to (null if never)
        ("lng", pa.float64()),
        ("lat", pa.float64()),
        ("state", pa.string()),
        ("received_at", TS),
        ("verify_sent_at", TS),
        ("verified_at", TS),
        ("verify_confirmed", pa.bool_()),
        ("registered_at", TS),
        ("dispatched_at", TS),  # first dispatch (disposal clock start)
        ("signed_at", TS),
        ("feedback_at", TS),  # last feedback
        ("check_sent_at", TS),
        ("checked_at", TS),
        ("closed_at", TS),
        ("voided_at", TS),
        ("merged_at", TS),
        ("due_at", TS),  # disposal due after approved extensions
        ("rework_count", pa.int32()),
        ("return_count", pa.int32()),
        ("reopen_count", pa.int32()),
        ("extension_count", pa.int32()),
        ("held", pa.bool_()),
        ("close_type", pa.string()),  # normal overdue special
        ("rating", pa.int8()),
        ("report_count", pa.int32()),
        ("master_id", pa.int64()),
        ("reporter_user_id", pa.int64()),
        ("send_verify_by", pa.int64()),
        ("verify_by", pa.int64()),
        ("register_by", pa.int64()),
        ("dispatch_by", pa.int64()),
        ("send_check_by", pa.int64()),
        ("check_by", pa.int64()),
        ("close_by", pa.int64()),
        ("register_due_at", TS),  # 立案+派遣 stage limit (received + 10/30 min)
        ("verify_due_at", TS),  # verify_sent_at + 1 h
        ("check_due_at", TS),  # check_sent_at + 1 h
        ("disposal_wmin", pa.float64()),  # working minutes dispatched → last feedback
        ("updated_at", TS),
    ]
)

FACT_COLUMNS = tuple(FACTS_SCHEMA.names)
