package storetest_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestDatabasesAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := storetest.New(t), storetest.New(t)

	// A table of our own, so the test does not depend on the schema.
	if _, err := a.Exec(`CREATE TABLE probe (x int); INSERT INTO probe VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var inA int
	if err := a.Get(&inA, `SELECT count(*) FROM probe`); err != nil {
		t.Fatal(err)
	}
	var inB sql.NullString
	if err := b.Get(&inB, `SELECT to_regclass('probe')::text`); err != nil {
		t.Fatal(err)
	}
	if inA != 1 || inB.Valid {
		t.Fatalf("probe: %d rows in a (want 1), table in b: %v (want none)", inA, inB.Valid)
	}
}

func TestMigrationsApplied(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	var applied int
	if err := db.Get(&applied, `SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`); err != nil {
		t.Fatal(err)
	}
	if applied == 0 {
		t.Fatal("goose_db_version lists no applied migration")
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("postgres", storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied int
	if err := db.QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied == 0 {
		t.Fatal("database from URL is not migrated")
	}
}

// TestParallel exercises concurrent cloning of the template.
func TestParallel(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := storetest.New(t)
			if _, err := db.Exec(`CREATE TABLE probe (x int)`); err != nil {
				t.Fatal(err)
			}
		})
	}
}
