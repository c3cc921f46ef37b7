-- Each record's JSON as the unified API shows it (without field mappings or remote_data),
-- rendered when the record is written, so that list reads send it as it is instead of decoding
-- `data` and `custom_fields` and encoding the record again. NULL for rows written before this
-- migration until their next write; reads render those as before.
ALTER TABLE records ADD COLUMN rendered TEXT;
