-- Coded columns are checked against the vocabularies by one C trigger per
-- table (refuge.check_codes, arguments: column, vocabulary, ...) instead of
-- foreign keys: a cached lookup per code instead of a query and a row lock on
-- the vocabulary row.  Vocabulary codes cannot be deleted or renamed
-- (refuge.vocab_guard), so a recorded code never loses its meaning.

do $codes$
declare
    t record;
begin
    for t in select * from (values
        ('operation', array['country', 'country']),
        ('site', array['site_type', 'site_type']),
        ('registration_group', array['status', 'group_status']),
        ('individual', array['sex', 'sex', 'dob_precision', 'date_precision', 'birth_country', 'country',
                             'origin_country', 'country', 'ethnicity', 'ethnicity', 'religion', 'religion',
                             'marital_status', 'marital_status', 'education_level', 'education_level',
                             'population_type', 'population_type', 'registration_level', 'registration_level',
                             'status', 'individual_status']),
        ('group_membership', array['relationship', 'relationship']),
        ('individual_name', array['script', 'script']),
        ('individual_nationality', array['country', 'country']),
        ('individual_language', array['language', 'language', 'read_level', 'language_proficiency',
                                      'write_level', 'language_proficiency', 'speak_level', 'language_proficiency',
                                      'understand_level', 'language_proficiency']),
        ('individual_education', array['level', 'education_level', 'degree', 'education_degree', 'country', 'country']),
        ('individual_occupation', array['occupation', 'occupation', 'country', 'country']),
        ('individual_contact', array['contact_type', 'contact_type']),
        ('individual_address', array['address_type', 'address_type', 'country', 'country']),
        ('flight_leg', array['country', 'country', 'date_precision', 'date_precision', 'reasons', 'flight_reason']),
        ('document', array['doc_type', 'document_type', 'issuing_country', 'country']),
        ('specific_need', array['category', 'specific_need_category', 'code', 'specific_need_code'])) as v(tab, args)
    loop
        execute format('create trigger check_codes before insert or update on refuge.%I
                        for each row execute function refuge.check_codes(%s)',
                       t.tab, (select string_agg(quote_literal(a), ', ') from unnest(t.args) a));
    end loop;

    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
                and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attname = 'shipped')
    loop
        execute format('create trigger vocab_guard before delete or update of code on refuge.%I
                        for each row execute function refuge.vocab_guard()', t.relname);
        execute format('create trigger vocab_changed after insert or update on refuge.%I
                        for each statement execute function refuge.vocab_changed()', t.relname);
    end loop;
end
$codes$;
