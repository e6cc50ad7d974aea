// HealthSync test of overlay/healthsync_sjson.go and healthsync_sjson_marshal.go, copied beside it into FerretDB's sjson package.
// Run by hand after a build (scripts/ferretdb/README in patch.ts):
//   cd .tools/ferretdb-patched/FerretDB && go test ./internal/handler/sjson/
// FerretDB's own tests of the package then run against the new Unmarshal too.

package sjson

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// healthsyncRandomValue makes a value of any sjson type, nested up to depth.
func healthsyncRandomValue(r *rand.Rand, depth int) any {
	strs := []string{"", "plain", "Zoë Ölçer", "quote \" inside", "back\\slash", "new\nline", "tab\t", "<tag>&amp;", "\u2028", "emoji 😀", "\x01ctl", string([]byte{0xff, 0xfe}), "a/b", strings.Repeat("x", 300)}
	kind := r.Intn(14)
	if depth <= 0 && kind < 2 {
		kind += 2
	}

	switch kind {
	case 0:
		return healthsyncRandomDocument(r, depth-1)
	case 1:
		n := r.Intn(4)
		arr := types.MakeArray(n)
		for i := 0; i < n; i++ {
			arr.Append(healthsyncRandomValue(r, depth-1))
		}

		return arr
	case 2:
		return []float64{0, math.Copysign(0, -1), 1.5, -2.25e-300, 1e21, 123456789.125, math.MaxFloat64, 42}[r.Intn(8)]
	case 3, 4:
		return strs[r.Intn(len(strs))]
	case 5:
		return types.Binary{Subtype: types.BinaryGeneric, B: []byte{1, 2, 3}}
	case 6:
		var id types.ObjectID
		r.Read(id[:])

		return id
	case 7:
		return r.Intn(2) == 0
	case 8:
		return time.UnixMilli(r.Int63n(4e12) - 1e12)
	case 9:
		return types.Null
	case 10:
		return types.Regex{Pattern: "^a.*b$", Options: "i"}
	case 11:
		return []int32{0, 1, -1, math.MaxInt32, math.MinInt32}[r.Intn(5)]
	case 12:
		return types.Timestamp(r.Uint64())
	default:
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 53}[r.Intn(6)]
	}
}

func healthsyncRandomDocument(r *rand.Rand, depth int) *types.Document {
	keys := []string{"_id", "name", "a", "b.c", "$weird", "ключ", "quote\"key", "back\\key", ""}
	doc := must.NotFail(types.NewDocument())
	for i, n := 0, r.Intn(6); i < n; i++ {
		doc.Set(keys[r.Intn(len(keys))], healthsyncRandomValue(r, depth))
	}

	return doc
}

func TestHealthsyncUnmarshalMatchesStock(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	fast := 0

	for i := 0; i < 20000; i++ {
		data, err := Marshal(healthsyncRandomDocument(r, 3))
		if err != nil {
			t.Fatal(err)
		}

		want, wantErr := healthsyncUnmarshalStock(data)
		got, gotErr := Unmarshal(data)

		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%s: stock error %v, new error %v", data, wantErr, gotErr)
		}

		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s:\nstock %#v\nnew   %#v", data, want, got)
		}

		if _, err := healthsyncUnmarshal(data); err == nil {
			fast++
		}
	}

	// Most documents (all without escaped keys) take the fast path; the rest fall back.
	if fast < 5000 {
		t.Fatalf("only %d of 20000 documents took the fast path", fast)
	}
}

func TestHealthsyncMarshalMatchesStock(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	fast := 0

	for i := 0; i < 20000; i++ {
		doc := healthsyncRandomDocument(r, 3)
		if i%10 == 0 {
			// A repeated key: the stock encoder panics on it (its schema looks values up by key).
			doc = must.NotFail(types.NewDocument("a", int32(1), "b", doc, "a", "second"))
		}

		want, wantErr := healthsyncMarshalCatching(healthsyncMarshalStock, doc)
		got, gotErr := healthsyncMarshalCatching(Marshal, doc)

		if (wantErr == nil) != (gotErr == nil) || string(want) != string(got) {
			t.Fatalf("stock %s (%v)\nnew   %s (%v)", want, wantErr, got, gotErr)
		}

		if _, err := healthsyncMarshal(doc); err == nil {
			fast++
		}
	}

	if fast < 10000 {
		t.Fatalf("only %d of 20000 documents took the fast path", fast)
	}
}

// healthsyncMarshalCatching turns a panic of marshal into an error.
func healthsyncMarshalCatching(marshal func(*types.Document) ([]byte, error), doc *types.Document) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()

	return marshal(doc)
}

func TestHealthsyncUnmarshalMalformed(t *testing.T) {
	for _, data := range []string{
		``, `{`, `}`, `[]`, `{"$s":{"p":{},"$k":[]}}x`, `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":1.5}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a","a"]},"a":1,"b":2}`, `{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"x}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":99999999999}`, `{"$s":{"p":{"a":{"t":"objectId"}},"$k":["a"]},"a":"zz"}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"int"}]}},"$k":["a"]},"a":[1,2]}`, `{"$s":{"p":{},"$k":[],"x":1}}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]}}`, `{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a": 1}`,
		`{"$s":{"p":{"a":{"t":"date"}},"$k":["a"]},"a":-0}`, `{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":1e400}`,
	} {
		want, wantErr := healthsyncUnmarshalStock([]byte(data))
		got, gotErr := Unmarshal([]byte(data))

		if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(want, got) {
			t.Errorf("%s: stock %v %v, new %v %v", data, want, wantErr, got, gotErr)
		}
	}
}

// BenchmarkHealthsync times both decoders and both encoders on one appointment.
func BenchmarkHealthsync(b *testing.B) {
	doc := must.NotFail(types.NewDocument(
		"_id", types.ObjectID{1, 2, 3}, "patientId", "65e000000000000000000001", "doctorId", "65d000000000000000000001",
		"start", time.UnixMilli(1795680000000), "end", time.UnixMilli(1795681800000), "localDate", "2026-11-26",
		"timeZone", "Europe/Berlin", "reason", "Follow-up visit", "status", "COMPLETED",
		"conditions", must.NotFail(types.NewArray("Atrial fibrillation")), "outboxSeq", int32(1), "outboxPending", false,
		"outbox", must.NotFail(types.NewArray(must.NotFail(types.NewDocument("_id", types.ObjectID{4}, "type", "APPOINTMENT_BOOKED", "at", time.UnixMilli(1796239148939))))),
	))
	data := must.NotFail(Marshal(doc))

	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"stock", func() error { _, err := healthsyncUnmarshalStock(data); return err }},
		{"healthsync", func() error { _, err := Unmarshal(data); return err }},
		{"marshal stock", func() error { _, err := healthsyncMarshalStock(doc); return err }},
		{"marshal healthsync", func() error { _, err := Marshal(doc); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				must.NoError(c.run())
			}
		})
	}
}
