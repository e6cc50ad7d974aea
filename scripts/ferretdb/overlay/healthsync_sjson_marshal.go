// HealthSync addition to FerretDB 1.24.2's sjson package (copied into internal/handler/sjson/ at
// build time by scripts/ferretdb/patch.ts, which renames the stock Marshal to
// healthsyncMarshalStock).
//
// Every document the SQLite backend writes is encoded by sjson.Marshal. The stock encoder calls
// encoding/json for every key and scalar and looks each schema key up again by name: about 18 µs
// for one audit entry here, a fifth of what an insert costs the server. This one writes the same
// bytes in one pass into one buffer. Values whose text needs care are encoded as the stock code
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

func healthsyncMarshal(d *types.Document) ([]byte, error) {
	buf := make([]byte, 0, 1024)
	buf = append(buf, `{"$s":`...)

	buf, err := healthsyncAppendSchema(buf, d)
	if err != nil {
		return nil, err
	}

	values := d.Values()

	for i, key := range d.Keys() {
		// As the stock Marshal: the top level's keys are written as they are.
		buf = append(buf, ',', '"')
		buf = append(buf, key...)
		buf = append(buf, '"', ':')

		if buf, err = healthsyncAppendValue(buf, values[i]); err != nil {
			return nil, err
		}
	}

	return append(buf, '}'), nil
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

// healthsyncAppendSchema writes what marshalSchemaForDoc writes.
func healthsyncAppendSchema(buf []byte, d *types.Document) ([]byte, error) {
	keys := d.Keys()
	if len(keys) == 0 {
		return append(buf, '{', '}'), nil
	}

	if !healthsyncUniqueKeys(d, keys) {
		return nil, errHealthsyncSlow
	}

	values := d.Values()
	buf = append(buf, `{"p":{`...)

	var err error

	for i, key := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}

		buf = healthsyncAppendString(buf, key)
		buf = append(buf, ':')

		if buf, err = healthsyncAppendElem(buf, values[i]); err != nil {
			return nil, err
		}
	}

	buf = append(buf, `},"$k":[`...)

	for i, key := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}

		buf = healthsyncAppendString(buf, key)
	}

	return append(buf, ']', '}'), nil
}

// healthsyncAppendElem writes what marshalElemForSingleValue writes.
func healthsyncAppendElem(buf []byte, value any) ([]byte, error) {
	var err error

	switch v := value.(type) {
	case *types.Document:
		buf = append(buf, `{"t":"object","$s":`...)
		if buf, err = healthsyncAppendSchema(buf, v); err != nil {
			return nil, err
		}

		return append(buf, '}'), nil

	case *types.Array:
		buf = append(buf, `{"t":"array","i":[`...)

		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}

			item, _ := v.Get(i)
			if buf, err = healthsyncAppendElem(buf, item); err != nil {
				return nil, err
			}
		}

		return append(buf, ']', '}'), nil

	case float64:
		return append(buf, `{"t":"double"}`...), nil
	case string:
		return append(buf, `{"t":"string"}`...), nil
	case types.ObjectID:
		return append(buf, `{"t":"objectId"}`...), nil
	case bool:
		return append(buf, `{"t":"bool"}`...), nil
	case time.Time:
		return append(buf, `{"t":"date"}`...), nil
	case types.NullType:
		return append(buf, `{"t":"null"}`...), nil
	case int32:
		return append(buf, `{"t":"int"}`...), nil
	case int64:
		return append(buf, `{"t":"long"}`...), nil
	}

	b, err := marshalElemForSingleValue(value)
	if err != nil {
		return nil, errHealthsyncSlow
	}

	return append(buf, b...), nil
}

// healthsyncAppendValue writes what MarshalSingleValue writes.
func healthsyncAppendValue(buf []byte, value any) ([]byte, error) {
	var err error

	switch v := value.(type) {
	case *types.Document:
		// documentType.MarshalJSON: keys through encoding/json, values looked up by key.
		keys := v.Keys()
		if !healthsyncUniqueKeys(v, keys) {
			return nil, errHealthsyncSlow
		}

		values := v.Values()
		buf = append(buf, '{')

		for i, key := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}

			buf = healthsyncAppendString(buf, key)
			buf = append(buf, ':')

			if buf, err = healthsyncAppendValue(buf, values[i]); err != nil {
				return nil, err
			}
		}

		return append(buf, '}'), nil

	case *types.Array:
		buf = append(buf, '[')

		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}

			item, _ := v.Get(i)
			if buf, err = healthsyncAppendValue(buf, item); err != nil {
				return nil, err
			}
		}

		return append(buf, ']'), nil

	case string:
		return healthsyncAppendString(buf, v), nil
	case types.ObjectID:
		buf = append(buf, '"')
		buf = hex.AppendEncode(buf, v[:])

		return append(buf, '"'), nil
	case bool:
		return strconv.AppendBool(buf, v), nil
	case time.Time:
		return strconv.AppendInt(buf, v.UnixMilli(), 10), nil
	case types.NullType:
		return append(buf, "null"...), nil
	case int32:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case float64:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, errHealthsyncSlow
		}

		return append(buf, b...), nil
	}

	b, err := MarshalSingleValue(value)
	if err != nil {
		return nil, errHealthsyncSlow
	}

	return append(buf, b...), nil
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
