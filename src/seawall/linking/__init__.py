"""Returning accounts: link a new account to the suspended accounts it most likely was before.

handles   name folding, variant keys, trigrams, comparison
style     writing-style vectors (character/word n-grams, function words)
profile   what is known about an account, built from events; shout-out detection
postings  inverted indexes (CSR + delta) and the style vector index (IVF)
scoring   the calibrated combination of evidence
index     LinkIndex: fingerprints of suspended accounts, candidate generation, scoring
files     `seawall link` over event files; evaluate: the IRA and Wikipedia evaluations;
simulate  a simulated platform with returners (profiles, pictures, shout-outs, followers)
store     loading suspended accounts from the Seawall database (the account_link signal)
"""
