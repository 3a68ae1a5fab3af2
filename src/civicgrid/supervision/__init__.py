"""督查督办 (SPEC §13): directives become task trees, every task tracked to 销号,
with 红黄绿灯 and the 通报."""
