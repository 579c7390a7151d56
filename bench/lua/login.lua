-- A burst of password-grant logins: POST the form in BENCH_LOGIN_BODY to the token route.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
