package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/v2"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	// Source says where the value came from: a file path, "environment
	// variable ZKX_...", "command line", or "" for a problem found by
	// Validate in the combined configuration.
	Source string
	// Key is the dotted configuration key, e.g. "storage.backend". For an
	// unknown environment variable it is the variable's name.
	Key string
	// Problem says what is wrong, in words meant for the user.
	Problem string
}

func (e *FieldError) Error() string {
	if e.Source == "" {
		return e.Key + ": " + e.Problem
	}
	return e.Source + ": " + e.Key + ": " + e.Problem
}

// field is one leaf key of Config.
type field struct {
	key   string
	index []int
	typ   reflect.Type
}

var durationType = reflect.TypeFor[time.Duration]()

// schema lists every leaf key of Config in declaration order; sections holds
// the keys of the nested structs. Both are derived once from the koanf tags
// and never modified.
var schema, sections = buildSchema()

func buildSchema() ([]field, map[string]bool) {
	var fields []field
	secs := make(map[string]bool)
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := prefix + f.Tag.Get("koanf")
			idx := append(append([]int(nil), index...), i)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				secs[key] = true
				walk(f.Type, key+".", idx)
				continue
			}
			fields = append(fields, field{key: key, index: idx, typ: f.Type})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return fields, secs
}

func lookupField(key string) (field, bool) {
	for _, f := range schema {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// envName is the environment variable that sets key.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// envKeys maps each environment variable name to its key.
func envKeys() map[string]string {
	m := make(map[string]string, len(schema))
	for _, f := range schema {
		m[envName(f.key)] = f.key
	}
	return m
}

// envLayer picks the ZKX_ variables out of env and maps each to its key.
// Unknown ZKX_ variables are errors; a later entry for the same variable
// wins, as with repeated entries in os.Environ.
func envLayer(env []string) (map[string]any, []error) {
	known := envKeys()
	out := make(map[string]any)
	var errs []error
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, ok := known[name]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			errs = append(errs, &FieldError{
				Source:  "environment",
				Key:     name,
				Problem: "unknown variable" + suggest(name, names),
			})
			continue
		}
		out[key] = value
	}
	return out, errs
}

// apply copies every key loaded in k onto cfg, converting values to the
// field's type. source names the origin of a key for error messages.
func apply(cfg *Config, k *koanf.Koanf, source func(key string) string) []error {
	var errs []error
	dst := reflect.ValueOf(cfg).Elem()
	for _, key := range k.Keys() {
		raw := k.Get(key)
		f, ok := lookupField(key)
		if !ok {
			if sections[key] {
				// An empty section ("storage:" or "storage: {}") sets
				// nothing; anything else where a mapping belongs is wrong.
				if m, isMap := raw.(map[string]any); raw == nil || (isMap && len(m) == 0) {
					continue
				}
				errs = append(errs, &FieldError{Source: source(key), Key: key,
					Problem: "is a section; want a mapping of " + strings.Join(sectionKeys(key), ", ")})
				continue
			}
			errs = append(errs, &FieldError{Source: source(key), Key: key,
				Problem: "unknown key" + suggest(key, allKeys())})
			continue
		}
		if raw == nil {
			continue // "key:" with no value leaves the lower layer's value
		}
		v, err := convert(f.typ, raw)
		if err != nil {
			errs = append(errs, &FieldError{Source: source(key), Key: key, Problem: err.Error()})
			continue
		}
		dst.FieldByIndex(f.index).Set(v)
	}
	return errs
}

// convert turns a value from YAML, the environment or flags into a value of
// type t. Strings are parsed for every type, so the environment and flags
// can set anything.
func convert(t reflect.Type, raw any) (reflect.Value, error) {
	switch {
	case t == notifiersType:
		n, err := toNotifiers(raw)
		return reflect.ValueOf(n), err
	case t == membersType:
		m, err := toMappings[Member]("ensemble.members", raw)
		return reflect.ValueOf(m), err
	case t == durationType:
		d, err := toDuration(raw)
		return reflect.ValueOf(d), err
	case t.Kind() == reflect.String:
		s, ok := raw.(string)
		if !ok {
			return reflect.Value{}, fmt.Errorf("want a string, got %s", describe(raw))
		}
		return reflect.ValueOf(s).Convert(t), nil
	case t.Kind() == reflect.Bool:
		b, err := toBool(raw)
		return reflect.ValueOf(b), err
	case t.Kind() == reflect.Int:
		n, err := toInt(raw)
		return reflect.ValueOf(n), err
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		l, err := toStrings(raw)
		return reflect.ValueOf(l), err
	}
	return reflect.Value{}, fmt.Errorf("internal: no conversion to %v", t)
}

func toDuration(raw any) (time.Duration, error) {
	switch v := raw.(type) {
	case time.Duration:
		return v, nil
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as \"2s\" or \"200ms\", got %q", v)
		}
		return d, nil
	case int, int64, uint64, float64:
		if fmt.Sprint(v) == "0" {
			return 0, nil
		}
		return 0, fmt.Errorf("want a duration such as \"2s\" or \"200ms\", got the bare number %v (a number has no unit)", v)
	}
	return 0, fmt.Errorf("want a duration such as \"2s\" or \"200ms\", got %s", describe(raw))
}

func toBool(raw any) (bool, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Errorf("want true or false, got %q", v)
		}
		return b, nil
	}
	return false, fmt.Errorf("want true or false, got %s", describe(raw))
}

func toInt(raw any) (int, error) {
	switch v := raw.(type) {
	case int:
		return v, nil
	case int64:
		if v < math.MinInt || v > math.MaxInt {
			return 0, fmt.Errorf("%d is out of range", v)
		}
		return int(v), nil
	case uint64:
		if v > math.MaxInt {
			return 0, fmt.Errorf("%d is out of range", v)
		}
		return int(v), nil
	case float64:
		if v != math.Trunc(v) || v < math.MinInt || v > math.MaxInt {
			return 0, fmt.Errorf("want a whole number, got %v", v)
		}
		return int(v), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 0)
		if err != nil {
			return 0, fmt.Errorf("want a whole number, got %q", v)
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("want a whole number, got %s", describe(raw))
}

// toStrings accepts a YAML list of strings, or a comma-separated string as
// given in the environment or on the command line. The result is never nil,
// so an explicitly empty list stays distinguishable from "not set".
func toStrings(raw any) ([]string, error) {
	switch v := raw.(type) {
	case []string:
		return append([]string{}, v...), nil
	case []any:
		out := make([]string, 0, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("item %d: want a string, got %s", i, describe(item))
			}
			out = append(out, s)
		}
		return out, nil
	case string:
		out := []string{}
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of strings, got %s", describe(raw))
}

// describe names a value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("a value of type %T", v)
}

func allKeys() []string {
	out := make([]string, len(schema))
	for i, f := range schema {
		out[i] = f.key
	}
	return out
}

func sectionKeys(section string) []string {
	var out []string
	for _, f := range schema {
		if rest, ok := strings.CutPrefix(f.key, section+"."); ok {
			out = append(out, rest)
		}
	}
	return out
}

// suggest returns " (did you mean X?)" for the candidate closest to s, or ""
// when nothing is close enough to be a plausible typo.
func suggest(s string, candidates []string) string {
	sort.Strings(candidates)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(s)/4) {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flat renders c as a flat map of keys to YAML-friendly values: durations
// as strings, everything else as is.
func (c Config) flat() map[string]any {
	src := reflect.ValueOf(c)
	m := make(map[string]any, len(schema))
	for _, f := range schema {
		v := src.FieldByIndex(f.index)
		switch {
		case f.typ == durationType:
			m[f.key] = formatDuration(time.Duration(v.Int()))
		case f.typ == notifiersType:
			m[f.key] = flatNotifiers(v.Interface().([]Notifier))
		case f.typ == membersType:
			m[f.key] = flatMembers(v.Interface().([]Member))
		case f.typ.Kind() == reflect.Slice:
			m[f.key] = append([]string{}, v.Interface().([]string)...)
		default:
			m[f.key] = v.Interface()
		}
	}
	return m
}

// toMappings decodes a YAML list of mappings (the notifiers list,
// ensemble.members) into []T: each mapping's keys name T's fields by their
// koanf tags, and each value is converted as a scalar key's would be. key
// names the list in error messages. A list has no environment or flag
// form. An empty list is nil, the default.
func toMappings[T any](key string, raw any) ([]T, error) {
	list, ok := raw.([]any)
	if !ok {
		if _, isString := raw.(string); isString {
			return nil, fmt.Errorf("set %s in the configuration file; it has no environment or flag form", key)
		}
		return nil, fmt.Errorf("want a list of mappings, got %s", describe(raw))
	}
	t := reflect.TypeFor[T]()
	fields := make(map[string]int, t.NumField())
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("koanf")
		fields[tag] = i
		names = append(names, tag)
	}
	out := make([]T, 0, len(list))
	var errs []error
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("item %d: want a mapping of %s, got %s", i, strings.Join(names, ", "), describe(item)))
			continue
		}
		var v T
		dst := reflect.ValueOf(&v).Elem()
		for k, val := range m {
			idx, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Errorf("item %d: unknown key %q%s", i, k, suggest(k, slices.Clone(names))))
				continue
			}
			if val == nil {
				continue
			}
			cv, err := convert(dst.Field(idx).Type(), val)
			if err != nil {
				errs = append(errs, fmt.Errorf("item %d: %s: %v", i, k, err))
				continue
			}
			dst.Field(idx).Set(cv)
		}
		out = append(out, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
