package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/redis/go-redis/v9"
)

// RedisState is the State that several gateway instances share. A key's
// live status is a string at PREFIX:{ID}:status (no expiry); its counters
// are PREFIX:{ID}:rpm:WINDOW, :tpm:WINDOW and :tpd:WINDOW, expiring with
// their window. The hash tag {ID} keeps a key's data in one Redis Cluster
// slot.
//
// Admit reads the status and checks and counts all three quotas in one Lua
// script: one round trip per request, so a status change made through any
// instance (or straight in Redis) applies to the next request everywhere,
// with no invalidation messages to lose.
type RedisState struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisState returns a RedisState on rdb whose keys start with prefix.
func NewRedisState(rdb redis.UniversalClient, prefix string) *RedisState {
	return &RedisState{rdb: rdb, prefix: prefix}
}

// OpenRedis connects to the Redis at url (redis://host:port/db) and
// checks that it answers.
func OpenRedis(ctx context.Context, url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "gateway redis url: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("gateway redis %s: %w", opt.Addr, err)
	}
	return rdb, nil
}

// OpenState returns the State c selects: a RedisState on the Redis at
// c.URL under c.Prefix, checked to answer, or a MemoryState when c.URL is
// empty. close releases the Redis client; it does nothing for a
// MemoryState.
func OpenState(ctx context.Context, c RedisConfig) (st State, close func() error, err error) {
	if c.URL == "" {
		return NewMemoryState(), func() error { return nil }, nil
	}
	rdb, err := OpenRedis(ctx, c.URL)
	if err != nil {
		return nil, nil, err
	}
	return NewRedisState(rdb, c.Prefix), rdb.Close, nil
}

func (s *RedisState) k(id, what string) string { return s.prefix + ":{" + id + "}:" + what }

// admitScript: KEYS status, rpm, tpm, tpd; ARGV limits rpm tpm tpd,
// clamped rpm tpm tpd, tokens, minute ttl ms, day ttl ms. Returns
// {status, refusing limit (0: admitted)}.
var admitScript = redis.NewScript(`
local st = redis.call('GET', KEYS[1]) or ''
if st == 'disabled' or st == 'revoked' then return {st, 0} end
local o = 0
if st == 'clamped' then o = 3 end
local lr, lt, ld = tonumber(ARGV[1+o]), tonumber(ARGV[2+o]), tonumber(ARGV[3+o])
local n = tonumber(ARGV[7])
if lr > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') + 1 > lr then return {st, 1} end
if lt > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') + n > lt then return {st, 2} end
if ld > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') + n > ld then return {st, 3} end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[8])
if n > 0 then
  redis.call('INCRBY', KEYS[3], n)
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
  redis.call('INCRBY', KEYS[4], n)
  redis.call('PEXPIRE', KEYS[4], ARGV[9])
end
return {st, 0}
`)

// correctScript adds ARGV[1] to the counters KEYS that still exist, never
// below zero.
var correctScript = redis.NewScript(`
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], ARGV[1]) < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return 0
`)

// Admit implements State.
func (s *RedisState) Admit(ctx context.Context, id string, q, c keywatch.Quotas, tokens int64, now time.Time) (Verdict, error) {
	minute, day, minuteEnd, dayEnd := windows(now)
	keys := []string{s.k(id, "status"),
		s.k(id, "rpm:"+strconv.FormatInt(minute, 10)),
		s.k(id, "tpm:"+strconv.FormatInt(minute, 10)),
		s.k(id, "tpd:"+strconv.FormatInt(day, 10))}
	// The TTLs outlive the windows by a minute so that late corrections
	// still find their counters.
	res, err := admitScript.Run(ctx, s.rdb, keys, q.RPM, q.TPM, q.TokensPerDay, c.RPM, c.TPM, c.TokensPerDay, tokens,
		(minuteEnd.Sub(now) + time.Minute).Milliseconds(), (dayEnd.Sub(now) + time.Minute).Milliseconds()).Slice()
	if err != nil {
		return Verdict{}, fmt.Errorf("gateway redis admit key %s: %w", id, err)
	}
	if len(res) != 2 {
		return Verdict{}, fmt.Errorf("gateway redis admit key %s: unexpected reply %v", id, res)
	}
	st, _ := res[0].(string)
	lim, _ := res[1].(int64)
	v := Verdict{Status: keywatch.KeyStatus(st), Limit: Limit(lim)}
	switch v.Limit {
	case LimitRPM, LimitTPM:
		v.RetryAfter = minuteEnd.Sub(now)
	case LimitTokensPerDay:
		v.RetryAfter = dayEnd.Sub(now)
	}
	return v, nil
}

// Status implements State: one GET, no script and no counter touched.
func (s *RedisState) Status(ctx context.Context, id string) (keywatch.KeyStatus, error) {
	st, err := s.rdb.Get(ctx, s.k(id, "status")).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("gateway redis read key %s status: %w", id, err)
	}
	return keywatch.KeyStatus(st), nil
}

// AddTokens implements State.
func (s *RedisState) AddTokens(ctx context.Context, id string, delta int64, at time.Time) error {
	if delta == 0 {
		return nil
	}
	minute, day, _, _ := windows(at)
	keys := []string{s.k(id, "tpm:"+strconv.FormatInt(minute, 10)), s.k(id, "tpd:"+strconv.FormatInt(day, 10))}
	if err := correctScript.Run(ctx, s.rdb, keys, delta).Err(); err != nil {
		return fmt.Errorf("gateway redis correct tokens of key %s: %w", id, err)
	}
	return nil
}

// SetStatus implements State.
func (s *RedisState) SetStatus(ctx context.Context, id string, st keywatch.KeyStatus) error {
	var err error
	if st == "" || st == keywatch.KeyActive {
		err = s.rdb.Del(ctx, s.k(id, "status")).Err()
	} else {
		err = s.rdb.Set(ctx, s.k(id, "status"), string(st), 0).Err()
	}
	if err != nil {
		return fmt.Errorf("gateway redis set key %s status %s: %w", id, st, err)
	}
	return nil
}
