module libbehavtarget.example/behavtarget

go 1.19
