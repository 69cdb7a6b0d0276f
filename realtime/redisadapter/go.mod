module github.com/wirelevel/ws/realtime/redisadapter

go 1.26.0

replace github.com/wirelevel/ws => ../..

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1
	github.com/wirelevel/ws v0.0.0-00010101000000-000000000000
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)
