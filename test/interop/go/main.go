// Command interop drives franz-go (kgo and kadm) against a Kafka broker and prints one JSON
// object per line: {"scenario": ..., "step": ..., "ok": true, ...} or {"ok": false, "error": ...}.
// test/interop/franz-go.test.ts builds and runs it and checks every line.
//
// Usage: interop <bootstrap> <scenario>...   scenarios: produce:<codec>, group, admin
//
//	interop <bootstrap> latency -topic ... [flags]   (latency.go; its flags end the line)
//
// Each step reports its own failure, so one broken step does not hide the others.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var emitLock sync.Mutex

// emit prints one result line.
func emit(line map[string]any) {
	emitLock.Lock()
	defer emitLock.Unlock()
	encoded, err := json.Marshal(line)
	if err != nil {
		encoded, _ = json.Marshal(map[string]any{"ok": false, "error": err.Error()})
	}
	fmt.Println(string(encoded))
}

// step runs one step and emits its line: the step's own fields on success, the error otherwise.
func step(scenario, name string, body func() (map[string]any, error)) {
	line := map[string]any{"scenario": scenario, "step": name}
	result, err := body()
	if err != nil {
		line["ok"] = false
		line["error"] = err.Error()
	} else {
		for key, value := range result {
			line[key] = value
		}
		line["ok"] = true
	}
	emit(line)
}

// emitVersions reports franz-go's module version and the highest version of every request
// its kmsg package can encode (kgo negotiates up to these).
func emitVersions() {
	version := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/twmb/franz-go" {
				version = dep.Version
			}
		}
	}
	apis := []map[string]any{}
	for key := int16(0); key < 200; key++ {
		if request := kmsg.RequestForKey(key); request != nil {
			apis = append(apis, map[string]any{"apiKey": key, "name": kmsg.NameForKey(key),
				"maxVersion": request.MaxVersion()})
		}
	}
	emit(map[string]any{"scenario": "client", "step": "versions", "ok": true,
		"version": version, "knownApis": apis})
}

func main() {
	bootstrap := os.Args[1]
	emitVersions()
	if len(os.Args) > 2 && os.Args[2] == "latency" {
		runLatency(bootstrap, os.Args[3:])
		return
	}
	for _, scenario := range os.Args[2:] {
		switch {
		case strings.HasPrefix(scenario, "produce:"):
			runProduce(bootstrap, strings.TrimPrefix(scenario, "produce:"))
		case scenario == "group":
			runGroup(bootstrap)
		case scenario == "admin":
			runAdmin(bootstrap)
		default:
			emit(map[string]any{"scenario": scenario, "step": "start", "ok": false,
				"error": "unknown scenario"})
		}
	}
}
