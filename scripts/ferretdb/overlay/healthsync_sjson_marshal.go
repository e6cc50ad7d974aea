// HealthSync addition to FerretDB 1.24.2's sjson package (copied into internal/handler/sjson/ at
// build time by scripts/ferretdb/patch.ts, which renames the stock Marshal to
// healthsyncMarshalStock).
//
// Every document the SQLite backend writes is encoded by sjson.Marshal. The stock encoder calls
// encoding/json for every key and scalar and looks each schema key up again by name: about 18 µs
// for one audit entry here, a fifth of what an insert costs the server. This one writes the same
// bytes in one walk over the document, the schema and the data side by side. Values whose text needs care are encoded as the stock code
// does (strings with anything but plain printable ASCII and doubles by encoding/json; binData,
// regex and timestamps by the stock functions), and a document with a repeated key is left to the
// stock Marshal whole (its schema then looks values up by name): the output is the stock output,
// byte for byte (healthsync_sjson_test.go compares them).

package sjson

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/FerretDB/FerretDB/internal/types"
)

// Marshal encodes given document fields and set its schema in the field $s.
// Use it when you need to encode a document with schema, for example, when you want to store it in a database.
func Marshal(d *types.Document) ([]byte, error) {
	if d != nil {
		if b, err := healthsyncMarshal(d); err == nil {
			return b, nil
		}
	}

	return healthsyncMarshalStock(d)
}

// healthsyncEncoder holds the two parts of a stored document as one walk writes them: the schema
// (what marshalSchemaForDoc writes) and the data (what the values' MarshalJSON write).
type healthsyncEncoder struct {
	schema []byte
	data   []byte
}

func healthsyncMarshal(d *types.Document) ([]byte, error) {
	e := healthsyncEncoder{schema: make([]byte, 0, 512), data: make([]byte, 0, 512)}

	// As the stock Marshal: the top level's keys are written as they are.
	if err := e.fields(d, true); err != nil {
		return nil, err
	}

	buf := make([]byte, 0, len(`{"$s":`)+len(e.schema)+len(e.data)+2)
	buf = append(append(buf, `{"$s":`...), e.schema...)

	if len(e.data) > 0 {
		buf = append(append(buf, ','), e.data...)
	}

	return append(buf, '}'), nil
}

// fields writes a document's schema and its fields ("key":value, comma-separated, no braces).
// A repeated key is left to the stock encoder (its schema looks values up by key).
func (e *healthsyncEncoder) fields(d *types.Document, rawKeys bool) error {
	keys := d.Keys()
	if len(keys) == 0 {
		e.schema = append(e.schema, '{', '}')
		return nil
	}

	if !healthsyncUniqueKeys(d, keys) {
		return errHealthsyncSlow
	}

	e.schema = append(e.schema, `{"p":{`...)

	for i, value := range d.Values() {
		if i > 0 {
			e.schema = append(e.schema, ',')
			e.data = append(e.data, ',')
		}

		e.schema = append(healthsyncAppendString(e.schema, keys[i]), ':')

		if rawKeys {
			e.data = append(append(append(e.data, '"'), keys[i]...), '"', ':')
		} else {
			e.data = append(healthsyncAppendString(e.data, keys[i]), ':')
		}

		if err := e.value(value); err != nil {
			return err
		}
	}

	e.schema = append(e.schema, `},"$k":[`...)

	for i, key := range keys {
		if i > 0 {
			e.schema = append(e.schema, ',')
		}

		e.schema = healthsyncAppendString(e.schema, key)
	}

	e.schema = append(e.schema, ']', '}')

	return nil
}

// value writes one value's schema element (marshalElemForSingleValue) and its data (MarshalSingleValue).
func (e *healthsyncEncoder) value(value any) error {
	switch v := value.(type) {
	case *types.Document:
		e.schema = append(e.schema, `{"t":"object","$s":`...)
		e.data = append(e.data, '{')

		if err := e.fields(v, false); err != nil {
			return err
		}

		e.schema = append(e.schema, '}')
		e.data = append(e.data, '}')

	case *types.Array:
		e.schema = append(e.schema, `{"t":"array","i":[`...)
		e.data = append(e.data, '[')

		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				e.schema = append(e.schema, ',')
				e.data = append(e.data, ',')
			}

			item, _ := v.Get(i)
			if err := e.value(item); err != nil {
				return err
			}
		}

		e.schema = append(e.schema, ']', '}')
		e.data = append(e.data, ']')

	case string:
		e.schema = append(e.schema, `{"t":"string"}`...)
		e.data = healthsyncAppendString(e.data, v)
	case types.ObjectID:
		e.schema = append(e.schema, `{"t":"objectId"}`...)
		e.data = append(hex.AppendEncode(append(e.data, '"'), v[:]), '"')
	case bool:
		e.schema = append(e.schema, `{"t":"bool"}`...)
		e.data = strconv.AppendBool(e.data, v)
	case time.Time:
		e.schema = append(e.schema, `{"t":"date"}`...)
		e.data = strconv.AppendInt(e.data, v.UnixMilli(), 10)
	case types.NullType:
		e.schema = append(e.schema, `{"t":"null"}`...)
		e.data = append(e.data, "null"...)
	case int32:
		e.schema = append(e.schema, `{"t":"int"}`...)
		e.data = strconv.AppendInt(e.data, int64(v), 10)
	case int64:
		e.schema = append(e.schema, `{"t":"long"}`...)
		e.data = strconv.AppendInt(e.data, v, 10)
	case float64:
		b, err := json.Marshal(v)
		if err != nil {
			return errHealthsyncSlow
		}

		e.schema = append(e.schema, `{"t":"double"}`...)
		e.data = append(e.data, b...)

	default:
		// binData, regex, timestamp: as the stock code writes them.
		elem, err := marshalElemForSingleValue(value)
		if err != nil {
			return errHealthsyncSlow
		}

		b, err := MarshalSingleValue(value)
		if err != nil {
			return errHealthsyncSlow
		}

		e.schema = append(e.schema, elem...)
		e.data = append(e.data, b...)
	}

	return nil
}

// healthsyncUniqueKeys: no key twice (the stock encoder's schema looks values up by key).
func healthsyncUniqueKeys(d *types.Document, keys []string) bool {
	if len(keys) > 16 {
		_, dup := d.FindDuplicateKey()
		return !dup
	}

	for i := range keys {
		for j := 0; j < i; j++ {
			if keys[i] == keys[j] {
				return false
			}
		}
	}

	return true
}

// healthsyncAppendString writes a string as encoding/json does: as it is when every byte is
// printable ASCII that it leaves alone (not `"`, `\`, `<`, `>`, `&`), otherwise through encoding/json.
func healthsyncAppendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes

			return append(buf, b...)
		}
	}

	buf = append(buf, '"')
	buf = append(buf, s...)

	return append(buf, '"')
}
