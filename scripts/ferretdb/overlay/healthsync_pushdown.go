// HealthSync addition to FerretDB 1.24.2's SQLite backend (copied into
// internal/backends/sqlite/ at build time by scripts/ferretdb/patch.ts).
//
// Stock FerretDB pushes only `{_id: <string|ObjectId>}` down to SQLite; every other filter makes
// it read and decode the whole table in Go. The indexes that createIndexes makes are SQLite
// expression indexes on `_ferretdb_sjson->"field"`, so an equality on that same expression can
// use them. This builds such a WHERE clause from the filter's top-level equality conditions.
//
// It only ever narrows the rows read to a superset of the matching documents: the handler still
// runs the complete filter on every row it gets back, so results cannot change. To stay a
// superset it is conservative:
//   - only plain top-level fields (no `$` operators other than $and/$eq/$in, no dotted paths);
//   - only values whose stored JSON text is exactly the query value's JSON text: ObjectIds, booleans,
//     strings of printable ASCII without characters JSON encoders may escape ("\<>&), and non-zero
//     integers up to 10^15 (int32, int64 or integral double: all three are stored as the same digits;
//     zero is left out because a double -0 equals 0 but is stored as "-0"); fractions, dates, null,
//     regexes and documents are left to Go;
//   - a field that holds an array matches an equality on any of its elements in MongoDB, so for
//     every field but _id the condition also admits rows whose value is an array (its JSON text
//     starts with '['), as a range on the same indexed expression, and for up to
//     healthsyncMaxInstr values only the arrays whose JSON text contains one of the values' texts
//     (an element equal to the value is written as exactly that text);
//   - a field named twice in one filter is not pushed down at all.

package sqlite

import (
	"fmt"
	"math"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
)

// healthsyncMaxExact bounds the integers pushed down: every int32, int64 and double of that value
// is stored as the same JSON text (Go's encoding/json writes integral doubles below 1e21 without a
// fraction or exponent), so numeric equality is text equality.
const healthsyncMaxExact = 1_000_000_000_000_000

// healthsyncMaxIn bounds the values of one pushed-down $in (SQLite allows 32766 parameters).
const healthsyncMaxIn = 1000

// healthsyncMaxInstr bounds the values whose texts an array is searched for; with more, every
// array qualifies (and FerretDB's own filter decides).
const healthsyncMaxInstr = 16

type healthsyncCond struct {
	field string
	texts []string
}

// healthsyncWhere returns a WHERE clause (with its arguments) for the filter's pushable conditions,
// or "" when there are none.
func healthsyncWhere(filter *types.Document) (string, []any) {
	if filter == nil || filter.Len() == 0 {
		return "", nil
	}

	var conds []healthsyncCond
	seen := map[string]int{}
	healthsyncCollect(filter, 0, &conds, seen)

	var parts []string
	var args []any

	for _, c := range conds {
		if seen[c.field] != 1 {
			continue
		}

		col := metadata.IDColumn
		if c.field != "_id" {
			col = fmt.Sprintf("%s->%q", metadata.DefaultColumn, c.field)
		}

		var cmp string
		if len(c.texts) == 1 {
			cmp = col + " = ?"
		} else {
			cmp = col + " IN (?" + strings.Repeat(", ?", len(c.texts)-1) + ")"
		}

		for _, t := range c.texts {
			args = append(args, t)
		}

		if c.field != "_id" {
			// Arrays: the JSON text of an array starts with '[' (0x5B), and '\' is 0x5C. An array
			// holding the value holds its JSON text too (the texts here are never escaped or
			// abbreviated), so for a few values only arrays containing one of those texts qualify.
			arrays := col + " >= '[' AND " + col + " < '\\'"
			if len(c.texts) <= healthsyncMaxInstr {
				contains := make([]string, len(c.texts))
				for i, t := range c.texts {
					contains[i] = "instr(" + col + ", ?) > 0"
					args = append(args, t)
				}
				arrays += " AND (" + strings.Join(contains, " OR ") + ")"
			}
			cmp = "(" + cmp + " OR (" + arrays + "))"
		}

		parts = append(parts, cmp)
	}

	if len(parts) == 0 {
		return "", nil
	}

	return " WHERE " + strings.Join(parts, " AND "), args
}

// healthsyncCollect adds the pushable conditions of doc (and of documents inside its $and) to conds,
// and counts in seen how often each field is constrained at all.
func healthsyncCollect(doc *types.Document, depth int, conds *[]healthsyncCond, seen map[string]int) {
	for _, k := range doc.Keys() {
		v, err := doc.Get(k)
		if err != nil {
			continue
		}

		if k == "$and" {
			arr, ok := v.(*types.Array)
			if !ok || depth > 3 {
				continue
			}

			for i := 0; i < arr.Len(); i++ {
				el, err := arr.Get(i)
				if err != nil {
					continue
				}

				if sub, ok := el.(*types.Document); ok {
					healthsyncCollect(sub, depth+1, conds, seen)
				}
			}

			continue
		}

		if k == "" || strings.HasPrefix(k, "$") || strings.ContainsRune(k, '.') {
			continue
		}

		seen[k]++

		if texts, ok := healthsyncTexts(v); ok {
			*conds = append(*conds, healthsyncCond{field: k, texts: texts})
		}
	}
}

// healthsyncTexts returns the JSON texts a field must equal (one, or several for $in).
func healthsyncTexts(v any) ([]string, bool) {
	if t, ok := healthsyncText(v); ok {
		return []string{t}, true
	}

	op, ok := v.(*types.Document)
	if !ok || op.Len() != 1 {
		return nil, false
	}

	if eq, err := op.Get("$eq"); err == nil {
		if t, ok := healthsyncText(eq); ok {
			return []string{t}, true
		}

		return nil, false
	}

	in, err := op.Get("$in")
	if err != nil {
		return nil, false
	}

	arr, ok := in.(*types.Array)
	if !ok || arr.Len() == 0 || arr.Len() > healthsyncMaxIn {
		return nil, false
	}

	texts := make([]string, 0, arr.Len())

	for i := 0; i < arr.Len(); i++ {
		el, err := arr.Get(i)
		if err != nil {
			return nil, false
		}

		t, ok := healthsyncText(el)
		if !ok {
			return nil, false
		}

		texts = append(texts, t)
	}

	return texts, true
}

// healthsyncText returns the JSON text FerretDB stores for v, for the value types where that
// text is unique and known; false for every other value.
func healthsyncText(v any) (string, bool) {
	switch v := v.(type) {
	case types.ObjectID, bool:
	case int32:
		if v == 0 {
			return "", false
		}
	case int64:
		if v == 0 || v > healthsyncMaxExact || v < -healthsyncMaxExact {
			return "", false
		}
	case float64:
		if v == 0 || v != math.Trunc(v) || v > healthsyncMaxExact || v < -healthsyncMaxExact {
			return "", false
		}
	case string:
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return "", false
			}
		}
	default:
		return "", false
	}

	b, err := sjson.MarshalSingleValue(v)
	if err != nil {
		return "", false
	}

	return string(b), true
}
