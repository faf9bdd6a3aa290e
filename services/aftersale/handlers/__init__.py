"""Aftersale's consume path and timers, one module per flow.

`batch` is the `BatchLogic` over every topic aftersale consumes (load a batch's aggregates,
decide each record with the pure flows of `domain/`, save in bulk); `refunds`, `reviews` and
`questions` say what each topic's records need loaded and which domain flow decides them;
`deadlines` runs the timers; `effects` turns a decision's effects into the pattern's.
"""
