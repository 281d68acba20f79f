-- Visit check-in (签到, DOMAIN.md §5): where the visitor's browser placed them when the visit
-- was recorded, and a photo taken there. Set once, when the visit is recorded (or when a
-- planned visit is completed); an edit cannot change it. `checked_in` is 1 exactly when a
-- location is stored. Coordinates are integer microdegrees (WGS 84, as the browser gives
-- them), the accuracy whole metres (rounded up), the fix time UTC RFC 3339.
ALTER TABLE activities ADD COLUMN checked_in BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN check_in_lat_e6 BIGINT;
ALTER TABLE activities ADD COLUMN check_in_lon_e6 BIGINT;
ALTER TABLE activities ADD COLUMN check_in_accuracy_m BIGINT;
ALTER TABLE activities ADD COLUMN check_in_at TEXT;
-- The photo's bytes live under the data directory (`photos/<sha256>`), like documents.
ALTER TABLE activities ADD COLUMN photo_sha256 TEXT;
ALTER TABLE activities ADD COLUMN photo_type TEXT;
ALTER TABLE activities ADD COLUMN photo_size BIGINT;
ALTER TABLE activities ADD COLUMN photo_at TEXT;
-- The week's statistics count checked-in visits per person from the same covering index.
DROP INDEX activities_owner_week;
CREATE INDEX activities_owner_week ON activities(owner_id, week, local_day, status, effective, kind, checked_in) WHERE deleted_at IS NULL;
