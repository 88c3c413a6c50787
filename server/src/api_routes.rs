//! The API's routes, declared once (`api_routes!` lists a path's handlers, as
//! `utoipa_axum::routes!` does) and built two ways: as the axum `Router` carnetd serves, from
//! each handler's path and methods alone, or as the `OpenApiRouter` the OpenAPI document is
//! made of, with every operation and schema (`routes::openapi`, which tests compare with
//! `schemas/openapi.json`, the file carnetd serves). Serving never builds the document: that
//! took a few MiB of heap at every start, which glibc kept (README, Performance: the
//! footprint), and the document's code is not even in the binary: a `Router` never calls a
//! `Routes`' `document`, so that closure is never compiled for it.

use axum::Router;
use axum::routing::MethodRouter;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::state::AppState;

/// One path's handlers, as served and as documented (`api_routes!` makes it).
pub struct Routes<Serve, Document> {
    /// The path and its method router.
    pub serve: Serve,
    /// What `utoipa_axum::routes!` makes of the same handlers.
    pub document: Document,
}

/// What a module's route list is built into: `Router` to serve, `OpenApiRouter` to document.
pub trait ApiRouter: Sized {
    fn empty() -> Self;
    /// Adds one path's handlers.
    fn routes<S, D>(self, routes: Routes<S, D>) -> Self
    where
        S: FnOnce() -> (String, MethodRouter<AppState>),
        D: FnOnce() -> UtoipaMethodRouter<AppState>;
    /// Adds every route of `other`.
    fn and(self, other: Self) -> Self;
}

impl ApiRouter for Router<AppState> {
    fn empty() -> Self {
        Router::new()
    }

    fn routes<S, D>(self, routes: Routes<S, D>) -> Self
    where
        S: FnOnce() -> (String, MethodRouter<AppState>),
        D: FnOnce() -> UtoipaMethodRouter<AppState>,
    {
        let (path, method_router) = (routes.serve)();
        self.route(&path, method_router)
    }

    fn and(self, other: Self) -> Self {
        self.merge(other)
    }
}

impl ApiRouter for OpenApiRouter<AppState> {
    fn empty() -> Self {
        OpenApiRouter::new()
    }

    fn routes<S, D>(self, routes: Routes<S, D>) -> Self
    where
        S: FnOnce() -> (String, MethodRouter<AppState>),
        D: FnOnce() -> UtoipaMethodRouter<AppState>,
    {
        OpenApiRouter::routes(self, (routes.document)())
    }

    fn and(self, other: Self) -> Self {
        self.merge(other)
    }
}

/// The handlers of one path (each with its `#[utoipa::path]`), as `Routes`.
macro_rules! api_routes {
    // Each handler as its path's segments: `utoipa_axum::routes!` finds `__path_<handler>`
    // beside it from those tokens (a `path` fragment, once matched, cannot be split again).
    ($($($segment:ident)::+),+ $(,)?) => {
        $crate::api_routes::Routes {
            serve: || {
                #[allow(unused_imports)]
                use utoipa_axum::PathItemExt as _;
                let paths = [$(utoipa_axum::routes!(@path [path()] of $($segment)::+)),+];
                debug_assert!(paths.iter().all(|p| *p == paths[0]), "one path per api_routes!");
                let mut router = axum::routing::MethodRouter::new();
                $(
                    for method in utoipa_axum::routes!(@path [methods()] of $($segment)::+) {
                        router = router.on(method.to_method_filter(), $($segment)::+);
                    }
                )+
                let [path, ..] = paths;
                (path, router)
            },
            document: || utoipa_axum::routes!($($($segment)::+),+),
        }
    };
}
pub(crate) use api_routes;

#[cfg(test)]
mod tests {
    use super::*;

    /// `api_routes!` serves its handlers at their documented path, and documents both. (That
    /// every documented method is served: the e2e test `every_documented_operation_is_served`.)
    #[test]
    fn served_and_documented_alike() {
        /// Documented.
        #[utoipa::path(get, path = "/t/{id}", responses((status = 200)))]
        async fn show() {}
        /// Documented.
        #[utoipa::path(put, path = "/t/{id}", responses((status = 204)))]
        async fn replace() {}

        let routes = api_routes!(show, replace);
        let (path, _): (String, MethodRouter<AppState>) = (routes.serve)();
        assert_eq!(path, "/t/{id}");
        let (_, paths, _): UtoipaMethodRouter<AppState> = (routes.document)();
        let item = &paths.paths["/t/{id}"];
        assert!(item.get.is_some() && item.put.is_some() && item.post.is_none());
    }
}
