package linear

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/anishathalye/porcupine"
)

// opJSON is one operation of a history file.
type opJSON struct {
	Client int    `json:"client"`
	Call   int64  `json:"call"`
	Return int64  `json:"return"` // Never for an unknown outcome
	Input  Input  `json:"input"`
	Output Output `json:"output"`
	Note   string `json:"note,omitempty"`
}

// WriteHistory writes a history of this package's operations as JSON lines, one operation a
// line, so that it can be checked again later (ReadHistory), e.g. with a longer timeout.
func WriteHistory(w io.Writer, history []porcupine.Operation) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, op := range history {
		note, _ := op.Metadata.(string)
		if err := enc.Encode(opJSON{Client: op.ClientId, Call: op.Call, Return: op.Return,
			Input: op.Input.(Input), Output: op.Output.(Output), Note: note}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadHistory reads a history written by WriteHistory.
func ReadHistory(r io.Reader) ([]porcupine.Operation, error) {
	var out []porcupine.Operation
	dec := json.NewDecoder(r)
	for {
		var o opJSON
		err := dec.Decode(&o)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("linear: history operation %d: %w", len(out)+1, err)
		}
		out = append(out, porcupine.Operation{ClientId: o.Client, Input: o.Input, Call: o.Call,
			Output: o.Output, Return: o.Return, Metadata: o.Note})
	}
}
