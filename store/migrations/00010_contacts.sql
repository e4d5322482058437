-- +goose Up
-- The company's shared address book, as Aircall's Contacts: a contact
-- with its phone numbers and emails. Details carry the company in their
-- foreign key, as every child row does, so that a number can never point
-- into another company's book, and the call log can find a caller's
-- contact by (company, E.164) with one index lookup.

CREATE TABLE contacts (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    first_name   text NOT NULL DEFAULT '',
    last_name    text NOT NULL DEFAULT '',
    company_name text NOT NULL DEFAULT '',
    information  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);
CREATE INDEX contacts_created ON contacts (company_id, created_at);

-- e164 is the number as the rest of Switchboard stores and compares it
-- (package phone); the API returns it as `value`.
CREATE TABLE contact_phone_numbers (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    label      text NOT NULL DEFAULT '',
    e164       text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_phone_numbers_lookup ON contact_phone_numbers (company_id, e164);
CREATE INDEX contact_phone_numbers_contact ON contact_phone_numbers (contact_id);

-- email is stored lower-cased, so search is case-insensitive on the index.
CREATE TABLE contact_emails (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    label      text NOT NULL DEFAULT '',
    email      text NOT NULL CHECK (email = lower(email)),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_emails_lookup ON contact_emails (company_id, email);
CREATE INDEX contact_emails_contact ON contact_emails (contact_id);

-- +goose Down
DROP TABLE contact_emails;
DROP TABLE contact_phone_numbers;
DROP TABLE contacts;
