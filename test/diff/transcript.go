package diff

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Transcript is the ordered record of what the clients of one scenario observed. Values that
// differ between servers by design are written as raw tokens — zxid(N) and sid(N) — which
// Normalize rewrites.
//
// Transcript is safe for concurrent use.
type Transcript struct {
	mu    sync.Mutex
	lines []string
}

// Addf appends one line.
func (t *Transcript) Addf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, fmt.Sprintf(format, args...))
}

// Lines returns a copy of the raw lines.
func (t *Transcript) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// ZxidToken is how a zxid is written into a transcript before normalisation.
func ZxidToken(z int64) string { return fmt.Sprintf("zxid(%d)", z) }

// SessionToken is how a session id is written into a transcript before normalisation.
func SessionToken(id int64) string { return fmt.Sprintf("sid(%d)", id) }

var (
	zxidRE    = regexp.MustCompile(`zxid\((-?\d+)\)`)
	sessionRE = regexp.MustCompile(`sid\((-?\d+)\)`)
)

// Normalize rewrites the server-specific values of a transcript so that two servers that
// behave the same produce identical lines:
//   - a session id becomes S1, S2, ... in order of first appearance (0 stays 0);
//   - a positive zxid becomes Zk where k is its rank among the distinct positive zxids of the
//     transcript, so equality and relative order are kept but absolute values are not;
//     zero and negative zxids are kept as they are.
func Normalize(lines []string) []string {
	var zxids []int64
	seenZ := map[int64]bool{}
	for _, l := range lines {
		for _, m := range zxidRE.FindAllStringSubmatch(l, -1) {
			z, _ := strconv.ParseInt(m[1], 10, 64)
			if z > 0 && !seenZ[z] {
				seenZ[z] = true
				zxids = append(zxids, z)
			}
		}
	}
	sort.Slice(zxids, func(i, j int) bool { return zxids[i] < zxids[j] })
	rank := make(map[int64]int, len(zxids))
	for i, z := range zxids {
		rank[z] = i + 1
	}

	sessions := map[int64]int{}
	out := make([]string, len(lines))
	for i, l := range lines {
		l = zxidRE.ReplaceAllStringFunc(l, func(tok string) string {
			z, _ := strconv.ParseInt(zxidRE.FindStringSubmatch(tok)[1], 10, 64)
			if z <= 0 {
				return strconv.FormatInt(z, 10)
			}
			return "Z" + strconv.Itoa(rank[z])
		})
		l = sessionRE.ReplaceAllStringFunc(l, func(tok string) string {
			id, _ := strconv.ParseInt(sessionRE.FindStringSubmatch(tok)[1], 10, 64)
			if id == 0 {
				return "0"
			}
			n, ok := sessions[id]
			if !ok {
				n = len(sessions) + 1
				sessions[id] = n
			}
			return "S" + strconv.Itoa(n)
		})
		out[i] = l
	}
	return out
}

// UnifiedDiff renders the difference between two transcripts as a unified-style diff ("-"
// lines only in a, "+" lines only in b, " " common lines), with up to context common lines
// around each change. It returns "" when the transcripts are identical.
func UnifiedDiff(aName, bName string, a, b []string, context int) string {
	ops := diffLines(a, b)
	changed := false
	for _, o := range ops {
		if o.kind != ' ' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", aName, bName)
	// Mark which common lines are within context of a change.
	keep := make([]bool, len(ops))
	for i, o := range ops {
		if o.kind == ' ' {
			continue
		}
		for j := i - context; j <= i+context; j++ {
			if j >= 0 && j < len(ops) {
				keep[j] = true
			}
		}
	}
	skipping := false
	for i, o := range ops {
		if !keep[i] {
			if !skipping {
				sb.WriteString("@@ ... @@\n")
				skipping = true
			}
			continue
		}
		skipping = false
		fmt.Fprintf(&sb, "%c%s\n", o.kind, o.line)
	}
	return sb.String()
}

type diffOp struct {
	kind byte // ' ', '-', '+'
	line string
}

// diffLines is a longest-common-subsequence line diff; transcripts are short (hundreds of
// lines), so the quadratic table is fine.
func diffLines(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, diffOp{'-', a[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, diffOp{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, diffOp{'+', b[j]})
	}
	return ops
}
