-- refuge 0.10.0 -> 0.11.0, before the new objects: the read log's new kind
alter table refuge.sensitive_read drop constraint sensitive_read_kind_check;
alter table refuge.sensitive_read add constraint sensitive_read_kind_check
    check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                    'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match', 'possible_duplicates'));
comment on table refuge.dedup_case is 'adjudication case: an enrolment whose best matches fell in the grey zone (biometric), or a registration whose demographic comparison reached the case threshold (demographic, sql/82_demographic.sql), with the reviewer''s decision';

