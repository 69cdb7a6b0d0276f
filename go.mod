module github.com/wirelevel/ws

go 1.26
