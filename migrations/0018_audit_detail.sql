-- An audit entry's detail as a template and values, so it can be shown in each reader's language
-- (bot/services/audit.py): the catalogue's English msgid (with its plural, if it has one) and the
-- named values as JSON, a translatable value stored as its msgid. `detail` keeps the English
-- rendering, for the export and older readers; rows from before this have only `detail`, and
-- are shown as stored.
ALTER TABLE audit_log ADD COLUMN detail_msgid TEXT;
ALTER TABLE audit_log ADD COLUMN detail_plural TEXT;
ALTER TABLE audit_log ADD COLUMN detail_params TEXT;
