package scan

// keywatch's own credentials. A gateway key calls, through the gateway,
// every model its key allows, on the provider keys the gateway holds; a
// serve API token ingests usage or, by its role, reads, acknowledges and
// resolves alerts. Gateway keys are in the inventory (provider keywatch)
// and map to it by fingerprint like provider keys.
var keywatchGatewayKey = (&Rule{
	ID:          "keywatch-gateway-key",
	Provider:    "keywatch",
	Description: "keywatch gateway key (keywatch keys issue).",
	Format:      "kwk_ + 43 [A-Za-z0-9_-] (47)",
	Keywords:    []string{"kwk_"},
	MinEntropy:  4.0,
	segs:        []seg{lit("kwk_"), run(urlSafe, 43)},
	Example:     "kwk_{u43}",
	TP:          []string{`KEYWATCH_GATEWAY_KEY=$KEY`, `OpenAI(base_url="http://keywatch-gw:8081/v1", api_key="$KEY")`},
	FP:          []string{`kwk_{u42}`, `kwk_{u44}`, `Authorization: Bearer kwk_...`},
}).finish()

// keywatchAPIToken is a serve API token. A gateway token has the same
// prefix but a dot inside (payload.signature) and lives minutes: the tail
// set keeps the rule off it.
var keywatchAPIToken = (&Rule{
	ID:          "keywatch-api-token",
	Provider:    "keywatch",
	Description: "keywatch serve API token (keywatch tokens create).",
	Format:      "kwt_ + 43 [A-Za-z0-9_-] (47), not followed by '.'",
	Keywords:    []string{"kwt_"},
	MinEntropy:  4.0,
	segs:        []seg{lit("kwt_"), run(urlSafe, 43)},
	tail:        charset("A-Za-z0-9_.-"),
	Example:     "kwt_{u43}",
	TP:          []string{`KEYWATCH_TOKEN=$KEY`, `curl -H "Authorization: Bearer $KEY" https://keywatch.internal/api/alerts`},
	FP:          []string{`kwt_{u42}`, `kwt_{u44}`, `token: kwt_{u43}.{u43}`, `KEYWATCH_TOKEN=kwt_...`},
}).finish()
