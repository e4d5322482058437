package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// Typed ids of the address book.
type (
	ContactID       int64
	ContactDetailID int64
)

// Contact is an entry of the company's shared address book (Aircall's
// Contact). Every user of the company reads and writes the same book.
type Contact struct {
	ID          ContactID
	FirstName   string
	LastName    string
	CompanyName string
	Information string
	// PhoneNumbers' values are E.164; Emails' are lower-cased. Both in the
	// order they were added.
	PhoneNumbers []ContactDetail
	Emails       []ContactDetail
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ContactDetail is one phone number or email of a contact.
type ContactDetail struct {
	ID    ContactDetailID
	Label string
	Value string
}

// DetailKind says which list of a contact a detail belongs to.
type DetailKind struct {
	table, column string
	what          string // in messages: "phone number"
}

// The two kinds of details, as Aircall's phone_details and email_details.
var (
	PhoneDetail = DetailKind{"contact_phone_numbers", "e164", "phone number"}
	EmailDetail = DetailKind{"contact_emails", "email", "email"}
)

// MaxContactDetails bounds each list of a contact, as Aircall does.
const MaxContactDetails = 20

// ContactFilter narrows a search; empty fields match every contact.
type ContactFilter struct {
	Phone string // E.164
	Email string // lower-cased
}

const contactColumns = "id, first_name, last_name, company_name, information, created_at, updated_at"

type contactRow struct {
	ID          ContactID `db:"id"`
	FirstName   string    `db:"first_name"`
	LastName    string    `db:"last_name"`
	CompanyName string    `db:"company_name"`
	Information string    `db:"information"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (r contactRow) contact() Contact {
	return Contact{ID: r.ID, FirstName: r.FirstName, LastName: r.LastName, CompanyName: r.CompanyName,
		Information: r.Information, PhoneNumbers: []ContactDetail{}, Emails: []ContactDetail{},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type detailRow struct {
	ID      ContactDetailID `db:"id"`
	Contact ContactID       `db:"contact_id"`
	Label   string          `db:"label"`
	Value   string          `db:"value"`
}

// withDetails reads the phone numbers and emails of rows (each contact
// once), two queries for the whole page rather than two a contact.
func withDetails(ctx context.Context, q sqlx.QueryerContext, company dialplan.CompanyID, rows []contactRow) ([]Contact, error) {
	out := make([]Contact, len(rows))
	at := make(map[ContactID]int, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i], at[r.ID], ids[i] = r.contact(), i, int64(r.ID)
	}
	if len(rows) == 0 {
		return out, nil
	}
	for _, k := range []DetailKind{PhoneDetail, EmailDetail} {
		var details []detailRow
		err := sqlx.SelectContext(ctx, q, &details, fmt.Sprintf(`SELECT id, contact_id, label, %s AS value FROM %s
			WHERE company_id = $1 AND contact_id = ANY ($2) ORDER BY id`, k.column, k.table), company, pq.Array(ids))
		if err != nil {
			return nil, fmt.Errorf("read contacts' %ss: %w", k.what, err)
		}
		for _, d := range details {
			c := &out[at[d.Contact]]
			list := &c.PhoneNumbers
			if k == EmailDetail {
				list = &c.Emails
			}
			*list = append(*list, ContactDetail{ID: d.ID, Label: d.Label, Value: d.Value})
		}
	}
	return out, nil
}

func readContact(ctx context.Context, q sqlx.QueryerContext, company dialplan.CompanyID, id ContactID) (Contact, error) {
	var r contactRow
	err := sqlx.GetContext(ctx, q, &r, "SELECT "+contactColumns+" FROM contacts WHERE company_id = $1 AND id = $2", company, id)
	if err != nil {
		return Contact{}, notFound(err, "contact", int64(id))
	}
	out, err := withDetails(ctx, q, company, []contactRow{r})
	if err != nil {
		return Contact{}, err
	}
	return out[0], nil
}

// Contact reads one contact with its details.
func (s *Store) Contact(ctx context.Context, company dialplan.CompanyID, id ContactID) (Contact, error) {
	return readContact(ctx, s.db, company, id)
}

// Contacts lists a page of the company's contacts.
func (s *Store) Contacts(ctx context.Context, company dialplan.CompanyID, p Page) ([]Contact, int, error) {
	return s.SearchContacts(ctx, company, ContactFilter{}, p)
}

// SearchContacts lists a page of the company's contacts that have the
// filter's phone number and email.
func (s *Store) SearchContacts(ctx context.Context, company dialplan.CompanyID, f ContactFilter, p Page) ([]Contact, int, error) {
	where, args := p.where("contacts", []any{company})
	for _, x := range []struct {
		kind  DetailKind
		value string
	}{{PhoneDetail, f.Phone}, {EmailDetail, f.Email}} {
		if x.value == "" {
			continue
		}
		args = append(args, x.value)
		where += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM %[1]s d
			WHERE d.company_id = contacts.company_id AND d.contact_id = contacts.id AND d.%[2]s = $%[3]d)`,
			x.kind.table, x.kind.column, len(args))
	}
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT count(*) FROM contacts WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count contacts: %w", err)
	}
	rows := []contactRow{}
	if err := s.db.SelectContext(ctx, &rows, "SELECT "+contactColumns+" FROM contacts WHERE "+where+p.tail("contacts"), args...); err != nil {
		return nil, 0, fmt.Errorf("list contacts: %w", err)
	}
	out, err := withDetails(ctx, s.db, company, rows)
	return out, total, err
}

// ContactsByPhone finds the contacts of numbers (E.164): for each number
// some contact has, that contact, the oldest when several have it. Numbers
// no contact has are left out of the map.
func (s *Store) ContactsByPhone(ctx context.Context, company dialplan.CompanyID, numbers []string) (map[string]Contact, error) {
	out := map[string]Contact{}
	if len(numbers) == 0 {
		return out, nil
	}
	var hits []struct {
		E164 string `db:"e164"`
		contactRow
	}
	// DISTINCT ON keeps the first row of each number: the oldest contact.
	err := s.db.SelectContext(ctx, &hits, `SELECT DISTINCT ON (p.e164) p.e164,
			c.id, c.first_name, c.last_name, c.company_name, c.information, c.created_at, c.updated_at
		FROM contact_phone_numbers p JOIN contacts c ON c.company_id = p.company_id AND c.id = p.contact_id
		WHERE p.company_id = $1 AND p.e164 = ANY ($2)
		ORDER BY p.e164, c.created_at, c.id`, company, pq.Array(numbers))
	if err != nil {
		return nil, fmt.Errorf("contacts by phone: %w", err)
	}
	// A contact with several of the numbers is read once.
	var rows []contactRow
	seen := map[ContactID]int{}
	for _, h := range hits {
		if _, ok := seen[h.ID]; !ok {
			seen[h.ID] = len(rows)
			rows = append(rows, h.contactRow)
		}
	}
	contacts, err := withDetails(ctx, s.db, company, rows)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		out[h.E164] = contacts[seen[h.ID]]
	}
	return out, nil
}

// ContactView shows a contact as the API does: the snapshot its events
// carry (contact.created, contact.updated, contact.deleted), written in
// the transaction of the change.
type ContactView func(Contact) (json.RawMessage, error)

// contactEvent writes an event of the contact as show shows it.
func contactEvent(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, kind events.Kind, c Contact, show ContactView) error {
	object, err := show(c)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return publish(ctx, tx, company, Event{Kind: kind, Data: events.Snapshot{Object: object}})
}

// CreateContact adds a contact and its details, all or nothing, fills in
// their ids and times, and writes contact.created.
func (s *Store) CreateContact(ctx context.Context, company dialplan.CompanyID, c *Contact, show ContactView) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, `INSERT INTO contacts (company_id, first_name, last_name, company_name, information)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at, updated_at`,
			company, c.FirstName, c.LastName, c.CompanyName, c.Information).Scan(&c.ID, &c.CreatedAt, &c.UpdatedAt)
		if err != nil {
			return fmt.Errorf("create contact: %w", err)
		}
		for _, x := range []struct {
			kind DetailKind
			list []ContactDetail
		}{{PhoneDetail, c.PhoneNumbers}, {EmailDetail, c.Emails}} {
			for i := range x.list {
				if err := insertDetail(ctx, tx, company, c.ID, x.kind, &x.list[i]); err != nil {
					return err
				}
			}
		}
		return contactEvent(ctx, tx, company, events.ContactCreated, *c, show)
	})
}

func insertDetail(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, contact ContactID, k DetailKind, d *ContactDetail) error {
	err := tx.QueryRowxContext(ctx, fmt.Sprintf(`INSERT INTO %s (company_id, contact_id, label, %s)
		VALUES ($1, $2, $3, $4) RETURNING id`, k.table, k.column), company, contact, d.Label, d.Value).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("add %s to contact %d: %w", k.what, contact, err)
	}
	return nil
}

// UpdateContact saves a contact's own fields (not its details), reads it
// back and writes contact.updated.
func (s *Store) UpdateContact(ctx context.Context, company dialplan.CompanyID, c Contact, show ContactView) (Contact, error) {
	var out Contact
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET first_name = $3, last_name = $4, company_name = $5,
			information = $6, updated_at = now() WHERE company_id = $1 AND id = $2`,
			company, c.ID, c.FirstName, c.LastName, c.CompanyName, c.Information)
		if err := oneRow(res, err, "contact", int64(c.ID)); err != nil {
			return err
		}
		if out, err = readContact(ctx, tx, company, c.ID); err != nil {
			return err
		}
		return contactEvent(ctx, tx, company, events.ContactUpdated, out, show)
	})
	return out, err
}

// DeleteContact removes a contact and its details, and writes
// contact.deleted with the contact as it was.
func (s *Store) DeleteContact(ctx context.Context, company dialplan.CompanyID, id ContactID, show ContactView) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		gone, err := readContact(ctx, tx, company, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM contacts WHERE company_id = $1 AND id = $2", company, id)
		if err := oneRow(res, err, "contact", int64(id)); err != nil {
			return err
		}
		return contactEvent(ctx, tx, company, events.ContactDeleted, gone, show)
	})
}

// lockContact takes the contact's row for the transaction, so that two
// requests on its details count them one after the other, and marks it
// updated.
func lockContact(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, id ContactID) error {
	res, err := tx.ExecContext(ctx, "UPDATE contacts SET updated_at = now() WHERE company_id = $1 AND id = $2", company, id)
	return oneRow(res, err, "contact", int64(id))
}

func countDetails(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, id ContactID, k DetailKind) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, "SELECT count(*) FROM "+k.table+" WHERE company_id = $1 AND contact_id = $2", company, id)
	if err != nil {
		return 0, fmt.Errorf("count %ss of contact %d: %w", k.what, id, err)
	}
	return n, nil
}

// AddContactDetail adds a phone number or an email to a contact (at most
// MaxContactDetails of each), reads the contact back and writes
// contact.updated.
func (s *Store) AddContactDetail(ctx context.Context, company dialplan.CompanyID, id ContactID, k DetailKind, d *ContactDetail, show ContactView) (Contact, error) {
	var out Contact
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockContact(ctx, tx, company, id); err != nil {
			return err
		}
		n, err := countDetails(ctx, tx, company, id, k)
		if err != nil {
			return err
		}
		if n >= MaxContactDetails {
			return conflict("a contact has at most %d %ss; delete one first", MaxContactDetails, k.what)
		}
		if err := insertDetail(ctx, tx, company, id, k, d); err != nil {
			return err
		}
		if out, err = readContact(ctx, tx, company, id); err != nil {
			return err
		}
		return contactEvent(ctx, tx, company, events.ContactUpdated, out, show)
	})
	return out, err
}

// UpdateContactDetail changes a detail of a contact, reads the contact
// back and writes contact.updated.
func (s *Store) UpdateContactDetail(ctx context.Context, company dialplan.CompanyID, id ContactID, k DetailKind, d ContactDetail, show ContactView) (Contact, error) {
	var out Contact
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockContact(ctx, tx, company, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET label = $4, %s = $5
			WHERE company_id = $1 AND contact_id = $2 AND id = $3`, k.table, k.column), company, id, d.ID, d.Label, d.Value)
		if err := oneRow(res, err, k.what, int64(d.ID)); err != nil {
			return err
		}
		if out, err = readContact(ctx, tx, company, id); err != nil {
			return err
		}
		return contactEvent(ctx, tx, company, events.ContactUpdated, out, show)
	})
	return out, err
}

// DeleteContactDetail removes a detail of a contact. A contact keeps at
// least one phone number, as Aircall asks one to create it: deleting the
// last is a conflict (delete the contact instead).
func (s *Store) DeleteContactDetail(ctx context.Context, company dialplan.CompanyID, id ContactID, k DetailKind, detail ContactDetailID, show ContactView) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockContact(ctx, tx, company, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM "+k.table+" WHERE company_id = $1 AND contact_id = $2 AND id = $3",
			company, id, detail)
		if err := oneRow(res, err, k.what, int64(detail)); err != nil {
			return err
		}
		if k == PhoneDetail {
			n, err := countDetails(ctx, tx, company, id, k)
			if err != nil {
				return err
			}
			if n == 0 {
				return conflict("a contact keeps at least one phone number: add another first, or delete the contact")
			}
		}
		out, err := readContact(ctx, tx, company, id)
		if err != nil {
			return err
		}
		return contactEvent(ctx, tx, company, events.ContactUpdated, out, show)
	})
}
