module wsgate

go 1.26
