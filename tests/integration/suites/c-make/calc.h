#pragma once
long calc_gcd(long a, long b);
int calc_is_prime(long n);
