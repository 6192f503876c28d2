"""Foreign-format samples shared by the importer unit tests and the import integration tests."""

KEEPASSXC_CSV = (
    '"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created"\n'
    '"Root","GitHub","octo","gh-pass","https://github.com","line 1\nline ""2""",'
    '"otpauth://totp/GitHub?secret=JBSWY3DPEHPK3PXP","0","2024-05-06T07:08:09Z",'
    '"2023-01-02T03:04:05Z"\n'
    '"Root/Work/DB","Postgres","app","pg-pass","","","","12","2024-01-01T00:00:00Z",'
    '"2024-01-01T00:00:00Z"\n'
    '"Root/Work/DB","Postgres","","","","just a note","","0","",""\n'
)
