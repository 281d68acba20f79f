-- Personal information (个人信息保护法; issue 26, DOMAIN.md §8, app/customers/privacy.rs).
-- A contact erased at the person's request keeps its row, so the records that name it
-- (activities, quotes, suggestions, service events) stay and show "erased contact": every
-- personal field is blanked, the name set to a neutral marker, and `erased_at` says when.
ALTER TABLE contacts ADD COLUMN erased_at TEXT;
-- Check-in locations and photos are kept for the company's period (setting
-- `check_in_retention`), then cleared by the daily pass (app/visits/retention.rs);
-- `check_in_purged_at` says when, so the visit's page can say so. `checked_in` stays 1 (the
-- visit was checked in; only where is no longer kept).
ALTER TABLE activities ADD COLUMN check_in_purged_at TEXT;
CREATE INDEX activities_check_in_kept ON activities(check_in_at) WHERE check_in_lat_e6 IS NOT NULL;
CREATE INDEX activities_photo_kept ON activities(photo_at) WHERE photo_sha256 IS NOT NULL;
