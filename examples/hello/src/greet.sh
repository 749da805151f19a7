#!/bin/sh
# The program of the hello image: its greeting, its assets, who runs it.
cat /app/hello.txt
cat /app/assets/motd.txt /app/assets/version.txt
echo "running as $(id -un)"
