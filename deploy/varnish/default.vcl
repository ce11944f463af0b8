# Varnish 7 in front of newsroom, purged by surrogate key (vmod xkey, Debian's
# varnish-modules). newsroom sends `PURGE` with `xkey-purge: <keys>` for every public change
# when started with NEWSROOM_PURGE=varnish:http://<this varnish>/ (see the README). With purges
# arriving, NEWSROOM_CACHE_CONTROL may give Varnish a long life for public reads, e.g.
# "public, max-age=60, s-maxage=86400, stale-while-revalidate=300".
vcl 4.1;

import xkey;

backend newsroom {
    .host = "127.0.0.1";
    .port = "8080";
}

# Who may purge: newsroom's servers. Widen to their addresses when they run elsewhere.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "xkey-purge header required"));
        }
        set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.x-purged));
    }
    # Signed-in reads are private: never from the cache, never into it. (Varnish's built-in
    # rules pass them too; this says so where it is read.)
    if (req.http.Authorization) {
        return (pass);
    }
}

sub vcl_backend_response {
    # xkey indexes objects by the `xkey` header; newsroom names its keys in Surrogate-Key.
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Private answers (signed-in reads, errors) are never kept.
    if (beresp.http.Cache-Control ~ "(private|no-store)") {
        set beresp.uncacheable = true;
        return (deliver);
    }
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Varnish-Cache = "HIT";
    } else {
        set resp.http.X-Varnish-Cache = "MISS";
    }
}
