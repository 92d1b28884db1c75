//! The allocator of a plugin built for `wasm32-unknown-unknown`: std's own,
//! dlmalloc, with a different source of memory.
//!
//! The wallet instantiates a plugin afresh for every call. Std's allocator on
//! this target gets its first memory with `memory.grow`, even though the
//! module starts with spare pages, so every call grew the memory, and the
//! wallet had to map those pages in and take them away again: about a third
//! of a fresh call. Here dlmalloc's first region is a static heap, part of the
//! module's initial memory; only a call that needs more than [`HEAP`] grows
//! the memory, as before (and the wallet's memory cap still applies).
//!
//! Single-threaded, as every component is: a plugin built with the `atomics`
//! target feature does not get this allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};

/// Bytes of the static heap: a metadata call or a typical action (a lab
/// report's few records) fits; a bigger one grows the memory.
pub const HEAP: usize = 512 * 1024;

/// WebAssembly's page size.
const PAGE: usize = 64 * 1024;

/// The static heap: zeroed memory in the module's `.bss`, so part of its
/// initial memory and costless until touched.
#[repr(align(16))]
struct Heap(UnsafeCell<[u8; HEAP]>);

// SAFETY: only `Memory::alloc` hands it out, once, on the one thread there is.
unsafe impl Sync for Heap {}

static STATIC_HEAP: Heap = Heap(UnsafeCell::new([0; HEAP]));

/// Where dlmalloc gets memory from: the static heap first, then `memory.grow`.
struct Memory {
    heap_given: Cell<bool>,
}

// SAFETY: `alloc` returns regions nobody else uses (the static heap once, then
// freshly grown pages) or null; nothing is ever remapped or released, which
// `remap`, `free_part`, `free` and `can_release_part` say.
unsafe impl dlmalloc::Allocator for Memory {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        if size <= HEAP && !self.heap_given.replace(true) {
            return (STATIC_HEAP.0.get().cast(), HEAP, 0);
        }
        let pages = size.div_ceil(PAGE);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            return (core::ptr::null_mut(), 0, 0);
        }
        ((previous * PAGE) as *mut u8, pages * PAGE, 0)
    }

    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        core::ptr::null_mut()
    }

    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }

    fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }

    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }

    /// The static heap is zeroed at instantiation and handed out once; grown
    /// pages are zeroed by WebAssembly.
    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

struct Allocator(UnsafeCell<dlmalloc::Dlmalloc<Memory>>);

// SAFETY: a component has one thread (see the module's documentation).
unsafe impl Sync for Allocator {}

// SAFETY: dlmalloc's own contract, as std uses it on this target.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).free(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(dlmalloc::Dlmalloc::new_with_allocator(Memory {
    heap_given: Cell::new(false),
})));
