// Package jsonevent is the JSON form of a notifier event shared by the
// shipped plugins, so a log line, a webhook body and a NATS message read
// the same:
//
//	{"type":"data","path":"/app/x","zxid":4294967301,"time":"2026-01-02T03:04:05.678Z","version":3,"data":"djE="}
//
// data (base64) is present only for plugins configured with include_data;
// a gap event is {"type":"gap","zxid":E,"gap_start":S,"gap_end":E}.
package jsonevent

import (
	"time"

	"github.com/zkx-dev/zkx/sdk/notifier"
)

// Event is the JSON form of a notifier.Event.
type Event struct {
	Type     string  `json:"type"`
	Path     string  `json:"path,omitempty"`
	Zxid     int64   `json:"zxid"`
	Time     string  `json:"time,omitempty"`
	Version  int32   `json:"version"`
	Data     *[]byte `json:"data,omitempty"`
	GapStart int64   `json:"gap_start,omitempty"`
	GapEnd   int64   `json:"gap_end,omitempty"`
}

// From converts e.
func From(e notifier.Event) Event {
	out := Event{
		Type:     e.Type.String(),
		Path:     e.Path,
		Zxid:     e.Zxid,
		Version:  e.Version,
		GapStart: e.GapStart,
		GapEnd:   e.GapEnd,
	}
	if !e.Time.IsZero() {
		out.Time = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if e.HasData {
		d := e.Data
		if d == nil {
			d = []byte{}
		}
		out.Data = &d
	}
	return out
}

// FromAll converts a batch.
func FromAll(events []notifier.Event) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = From(e)
	}
	return out
}
