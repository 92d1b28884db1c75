//! Spreading CPU-bound work over the machine's cores.
//!
//! Import parses, validates, hashes and seals thousands of records; on a 2-core
//! machine doing that on both cores is the difference between meeting the import
//! target and missing it. In the browser (wasm32) there are no threads, so the
//! same call runs in order.

/// Maps `f` over `items`, in parallel where threads exist, keeping the order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_owned(items.iter().collect(), f)
}

/// Like [`map`], consuming the items (so they are also freed on the worker threads).
pub fn map_owned<T: Send, R: Send>(mut items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while items.len() > chunk {
        let rest = items.split_off(chunk);
        parts.push(std::mem::replace(&mut items, rest));
    }
    parts.push(items);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(not(target_family = "wasm"))]
fn threads(items: usize) -> usize {
    // Below a few hundred items, spawning costs more than it saves.
    if items < 256 {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

#[cfg(target_family = "wasm")]
fn threads(_items: usize) -> usize {
    1
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let out = super::map(&items, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let owned = super::map_owned(items.clone(), |x| x + 1);
        assert_eq!(owned, items.iter().map(|x| x + 1).collect::<Vec<_>>());
    }
}
