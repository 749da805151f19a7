module example.invalid/dockerverse/backend

go 1.19
