// HealthSync addition to FerretDB 1.24.2's sjson package (copied into internal/handler/sjson/ at
// build time by scripts/ferretdb/patch.ts, which renames the stock Unmarshal to
// healthsyncUnmarshalStock).
//
// Every document the SQLite backend reads is decoded by sjson.Unmarshal, and the stock decoder
// makes a new encoding/json Decoder (with its buffer) for the document, for its schema and again
// for every single value: about 90 µs and 540 allocations for one appointment (1.5 KB) here, so a
// find of 500 documents spent ~45 ms in it, and every filter that Go evaluates paid it per row.
//
// This decoder reads the same format in one pass over the bytes: it splits objects and arrays
// into their raw values, decodes the common scalars (string without escapes, int, long, double,
// bool, date, objectId, null) directly, and caches decoded schemas (documents of one collection
// share a handful). Anything else (escaped strings, binData, regex, timestamp, a malformed value)
// goes to the stock decoder for that value, and if the fast path fails anywhere the whole
// document is decoded by the stock Unmarshal again: results and errors are the stock decoder's.

package sjson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// errHealthsyncSlow means "not handled by the fast path": the caller falls back to the stock decoder.
var errHealthsyncSlow = errors.New("sjson: fast path does not apply")

// healthsyncSchemaCacheMax bounds the schema cache; when full it is emptied and refilled.
const healthsyncSchemaCacheMax = 4096

var healthsyncSchemas = struct {
	sync.RWMutex
	m map[string]*schema
}{m: map[string]*schema{}}

// Unmarshal decodes the top-level document.
// It decodes document's schema from the `$s` field and uses it to decode the data of the document.
func Unmarshal(data []byte) (*types.Document, error) {
	if doc, err := healthsyncUnmarshal(data); err == nil {
		return doc, nil
	}

	return healthsyncUnmarshalStock(data)
}

func healthsyncUnmarshal(data []byte) (*types.Document, error) {
	fields, err := healthsyncObject(data)
	if err != nil {
		return nil, err
	}

	rawSchema, ok := fields["$s"]
	if !ok {
		return nil, errHealthsyncSlow
	}

	sch, err := healthsyncSchema(rawSchema)
	if err != nil {
		return nil, err
	}

	delete(fields, "$s")

	return healthsyncDocument(fields, sch, true)
}

// healthsyncSchema decodes a schema as the stock decoder does (unknown fields refused), once per
// distinct text. Schemas are only read after decoding, so one may serve many documents.
func healthsyncSchema(raw []byte) (*schema, error) {
	healthsyncSchemas.RLock()
	sch, ok := healthsyncSchemas.m[string(raw)]
	healthsyncSchemas.RUnlock()

	if ok {
		return sch, nil
	}

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()

	sch = new(schema)
	if err := dec.Decode(sch); err != nil || dec.More() {
		return nil, errHealthsyncSlow
	}

	healthsyncSchemas.Lock()
	if len(healthsyncSchemas.m) >= healthsyncSchemaCacheMax {
		healthsyncSchemas.m = map[string]*schema{}
	}
	healthsyncSchemas.m[string(raw)] = sch
	healthsyncSchemas.Unlock()

	return sch, nil
}

// healthsyncDocument builds a document from an object's fields by its schema. The stock decoder
// decodes an empty nested object without looking at its schema, but requires the schema's keys of
// a top-level one (`top`).
func healthsyncDocument(fields map[string][]byte, sch *schema, top bool) (*types.Document, error) {
	if len(fields) == 0 && !top {
		return must.NotFail(types.NewDocument()), nil
	}

	if sch == nil || len(sch.Keys) != len(fields) {
		return nil, errHealthsyncSlow
	}

	pairs := make([]any, 0, 2*len(sch.Keys))

	for _, key := range sch.Keys {
		raw, ok := fields[key]
		if !ok {
			// Absent, or named twice in the schema: the stock decoder decides.
			return nil, errHealthsyncSlow
		}

		delete(fields, key)

		v, err := healthsyncValue(raw, sch.Properties[key])
		if err != nil {
			return nil, err
		}

		pairs = append(pairs, key, v)
	}

	// The stock decoder builds the document with Set, key by key: with distinct keys (checked
	// above) that is NewDocument with the pairs in the same order.
	doc, err := types.NewDocument(pairs...)
	if err != nil {
		return nil, errHealthsyncSlow
	}

	return doc, nil
}

// healthsyncValue decodes one value by its schema element, as unmarshalSingleValue does.
func healthsyncValue(raw []byte, sch *elem) (any, error) {
	if string(raw) == "null" {
		return types.Null, nil
	}

	if sch == nil {
		return nil, errHealthsyncSlow
	}

	switch sch.Type {
	case elemTypeObject:
		if sch.Schema == nil {
			return nil, errHealthsyncSlow
		}

		fields, err := healthsyncObject(raw)
		if err != nil {
			return nil, err
		}

		return healthsyncDocument(fields, sch.Schema, false)

	case elemTypeArray:
		if sch.Items == nil {
			return nil, errHealthsyncSlow
		}

		items, err := healthsyncArray(raw)
		if err != nil {
			return nil, err
		}

		if len(items) != len(sch.Items) {
			return nil, errHealthsyncSlow
		}

		arr := types.MakeArray(len(items))

		for i, item := range items {
			v, err := healthsyncValue(item, sch.Items[i])
			if err != nil {
				return nil, err
			}

			arr.Append(v)
		}

		return arr, nil

	case elemTypeString:
		if s, ok := healthsyncPlainString(raw); ok {
			return s, nil
		}

	case elemTypeObjectID:
		if s, ok := healthsyncPlainString(raw); ok && len(s) == 2*types.ObjectIDLen {
			var id types.ObjectID
			if _, err := hex.Decode(id[:], []byte(s)); err == nil {
				return id, nil
			}
		}

	case elemTypeBool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}

	case elemTypeInt:
		if healthsyncIsInteger(raw) {
			if n, err := strconv.ParseInt(string(raw), 10, 32); err == nil {
				return int32(n), nil
			}
		}

	case elemTypeLong:
		if healthsyncIsInteger(raw) {
			if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				return n, nil
			}
		}

	case elemTypeDate:
		if healthsyncIsInteger(raw) {
			if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				return time.UnixMilli(n), nil
			}
		}

	case elemTypeDouble:
		if healthsyncIsNumber(raw) {
			if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
				return f, nil
			}
		}
	}

	// Everything else, and every value above that is not in its plain form: the stock decoder.
	v, err := unmarshalSingleValue(raw, sch)
	if err != nil {
		return nil, errHealthsyncSlow
	}

	return v, nil
}

// healthsyncPlainString returns a JSON string's value when it needs no unescaping: no backslash,
// no control character, valid UTF-8 (encoding/json returns such a string's bytes unchanged).
func healthsyncPlainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}

	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}

	if !utf8.Valid(body) {
		return "", false
	}

	return string(body), true
}

// healthsyncIsInteger: an optional minus and digits, no leading zero (JSON's integer syntax).
func healthsyncIsInteger(raw []byte) bool {
	s := raw
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}

	if len(s) == 0 || (s[0] == '0' && len(s) > 1) {
		return false
	}

	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}

	return true
}

// healthsyncIsNumber checks JSON's number syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func healthsyncIsNumber(raw []byte) bool {
	i, n := 0, len(raw)
	digits := func() int {
		start := i
		for i < n && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}

		return i - start
	}

	if i < n && raw[i] == '-' {
		i++
	}

	if i < n && raw[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}

	if i < n && raw[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}

	if i < n && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < n && (raw[i] == '+' || raw[i] == '-') {
			i++
		}

		if digits() == 0 {
			return false
		}
	}

	return i == n
}

// healthsyncObject splits a JSON object into its keys and raw values. Keys that need unescaping,
// whitespace and anything malformed are left to the stock decoder.
func healthsyncObject(raw []byte) (map[string][]byte, error) {
	fields := make(map[string][]byte, 16)

	err := healthsyncElements(raw, '{', '}', func(i int) (int, error) {
		end := healthsyncSkip(raw, i)
		if end < 0 {
			return 0, errHealthsyncSlow
		}

		key, ok := healthsyncPlainString(raw[i:end])
		if !ok || end >= len(raw) || raw[end] != ':' {
			return 0, errHealthsyncSlow
		}

		i = end + 1

		end = healthsyncSkip(raw, i)
		if end < 0 {
			return 0, errHealthsyncSlow
		}

		fields[key] = raw[i:end]

		return end, nil
	})

	return fields, err
}

// healthsyncArray splits a JSON array into its raw values.
func healthsyncArray(raw []byte) ([][]byte, error) {
	var items [][]byte

	err := healthsyncElements(raw, '[', ']', func(i int) (int, error) {
		end := healthsyncSkip(raw, i)
		if end < 0 {
			return 0, errHealthsyncSlow
		}

		items = append(items, raw[i:end])

		return end, nil
	})

	return items, err
}

// healthsyncElements walks the comma-separated elements between open and close, which must
// enclose all of raw: element reads the one starting at i and returns the index just after it.
func healthsyncElements(raw []byte, open, close byte, element func(i int) (int, error)) error {
	if len(raw) < 2 || raw[0] != open || raw[len(raw)-1] != close {
		return errHealthsyncSlow
	}

	if len(raw) == 2 {
		return nil
	}

	for i := 1; ; {
		end, err := element(i)
		if err != nil {
			return err
		}

		switch {
		case end >= len(raw):
			return errHealthsyncSlow
		case raw[end] == ',':
			i = end + 1
		case raw[end] == close && end+1 == len(raw):
			return nil
		default:
			return errHealthsyncSlow
		}
	}
}

// healthsyncSkip returns the index just after the JSON value starting at raw[i], or -1. It only
// finds the value's end (strings with their escapes, nesting); each value is checked when decoded.
func healthsyncSkip(raw []byte, i int) int {
	n := len(raw)
	if i >= n {
		return -1
	}

	switch c := raw[i]; {
	case c == '"':
		for j := i + 1; j < n; j++ {
			switch raw[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}

		return -1

	case c == '{' || c == '[':
		depth := 0

		for j := i; j < n; j++ {
			switch raw[j] {
			case '"':
				end := healthsyncSkip(raw, j)
				if end < 0 {
					return -1
				}

				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}

		return -1

	default:
		// A scalar: up to the next delimiter.
		j := i
		for j < n && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' {
			j++
		}

		if j == i {
			return -1
		}

		return j
	}
}
