"""Store: what the tool keeps — reference layers, every version of every project,
submissions, accounts, comments and the audit trail (:mod:`.database`, :mod:`.migrations`);
the shipped reference data and how it is seeded (:mod:`.reference`, :mod:`.illustrative`,
:mod:`.seed`); and the audited writes that are not uploads (:mod:`.accounts`, :mod:`.sso`,
:mod:`.comments`, :mod:`.reference_edits`)."""
